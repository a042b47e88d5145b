"""``python -m amplifier`` runs the command line."""

from amplifier.cli import main

raise SystemExit(main())
