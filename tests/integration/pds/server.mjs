// A local PLC directory and a real @atproto/pds on 127.0.0.1, rate limits on, for integration tests.
//
//   node server.mjs DATA_DIR [--pds-port N] [--plc-port N] [--exit-with-stdin]
//
// Ports also come from PDS_PORT / PLC_PORT; 0 (the default) picks a free one. Prints one JSON
// line on stdout when both serve, e.g. {"pds_url": "http://127.0.0.1:2583", ...}; logs (off
// unless LOG_ENABLED=true) go to stderr. SIGTERM or SIGINT shuts both down and exits 0.
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import process from 'node:process'

function parseArgs(argv) {
  const opts = {
    dataDir: null,
    pdsPort: process.env.PDS_PORT ?? '0',
    plcPort: process.env.PLC_PORT ?? '0',
    exitWithStdin: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--pds-port') opts.pdsPort = argv[++i]
    else if (arg === '--plc-port') opts.plcPort = argv[++i]
    else if (arg === '--exit-with-stdin') opts.exitWithStdin = true
    else if (!arg.startsWith('--') && opts.dataDir === null) opts.dataDir = arg
    else throw new Error(`unknown argument: ${arg}`)
  }
  if (!opts.dataDir) throw new Error('usage: node server.mjs DATA_DIR [--pds-port N] [--plc-port N]')
  for (const key of ['pdsPort', 'plcPort']) {
    const port = Number(opts[key])
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port: ${opts[key]}`)
    opts[key] = port
  }
  return opts
}

// The PDS writes its public URL (with the port) into each account's PLC document, so its port
// must be known before it is created: ask the kernel for a free one.
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

function listen(app, port) {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1')
    server.once('error', reject)
    server.once('listening', () => resolve(server))
  })
}

function closeServer(server) {
  return new Promise((resolve) => {
    if (!server) return resolve()
    server.close(() => resolve())
    server.closeAllConnections() // keep-alive sockets would hold close() open
  })
}

const opts = parseArgs(process.argv.slice(2))
process.env.LOG_ENABLED ??= 'false' // the loggers read this at import time: imports come after
process.env.LOG_DESTINATION ??= '/dev/stderr' // stdout carries only the ready line

const plcModule = await import('@did-plc/server')
const { PlcServer, Database: PlcDatabase } = plcModule.default ?? plcModule
const { PDS, envToCfg, envToSecrets } = await import('@atproto/pds')

const dataDir = path.resolve(opts.dataDir)
fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

// As @atproto/dev-env's TestPlc: the real PLC server over its in-memory database.
const plc = PlcServer.create({ db: PlcDatabase.mock(), port: opts.plcPort })
const plcServer = await listen(plc.app, opts.plcPort)
const plcUrl = `http://127.0.0.1:${plcServer.address().port}`

const pdsPort = opts.pdsPort || (await freePort())
const env = {
  port: pdsPort,
  hostname: 'localhost', // handles under .test; http public URL (needs devMode)
  devMode: true, // only for the http:// OAuth resource URL; rate limits do not depend on it
  dataDirectory: dataDir,
  blobstoreDiskLocation: path.join(dataDir, 'blobs'),
  didPlcUrl: plcUrl,
  inviteRequired: false,
  rateLimitsEnabled: true, // no Redis: the in-memory limiter
  // Fresh throwaway secrets for each run; never printed.
  jwtSecret: crypto.randomBytes(32).toString('hex'),
  adminPassword: crypto.randomBytes(24).toString('hex'),
  plcRotationKeyK256PrivateKeyHex: crypto.randomBytes(32).toString('hex'),
  serviceName: 'amplifier test PDS',
}
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
// PDS.start() listens on every interface; this is its body with the loopback address.
await pds.ctx.sequencer.start()
const pdsServer = await listen(pds.app, pdsPort)
pdsServer.keepAliveTimeout = 90_000

let stopping = false
async function shutdown(code) {
  if (stopping) return
  stopping = true
  const guard = setTimeout(() => process.exit(1), 10_000)
  guard.unref()
  try {
    await Promise.all([closeServer(pdsServer), closeServer(plcServer)])
    await pds.ctx.destroy()
    await plc.ctx.db.close()
  } catch (err) {
    console.error('shutdown failed:', err)
    code = 1
  }
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))
if (opts.exitWithStdin) {
  // The parent holds our stdin: if it dies without signalling, we still go.
  process.stdin.on('end', () => shutdown(0))
  process.stdin.on('error', () => shutdown(0))
  process.stdin.resume()
}

process.stdout.write(
  JSON.stringify({
    pds_url: `http://127.0.0.1:${pdsPort}`,
    plc_url: plcUrl,
    handle_domain: '.test',
    pds_version: pds.ctx.cfg.service.version,
    node_version: process.version,
    rate_limits: true,
  }) + '\n',
)
