/* The share kit's only script. Everything works without it; it adds copying to the
   clipboard, the supporter's Mastodon server remembered in this browser (nothing is sent
   anywhere), and a fresh version of each post per visit. */
(function () {
  "use strict";
  var KEY = "amplifier-kit.mastodon-server";

  function stored() {
    try { return window.localStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }
  function remember(host) {
    try { window.localStorage.setItem(KEY, host); } catch (e) { /* private mode */ }
  }
  function forget() {
    try { window.localStorage.removeItem(KEY); } catch (e) { /* private mode */ }
  }
  /* A server's address, a handle (@me@server) or a bare host name -> the host name. */
  function hostOf(value) {
    var host = value.trim().toLowerCase();
    host = host.replace(/^[a-z]+:\/\//, "").replace(/^@?[^@\/]*@/, "").replace(/[\/?#].*$/, "");
    return /^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]{1,5})?$/.test(host) ? host : "";
  }
  function say(text) {
    var status = document.getElementById("status");
    if (status) { status.textContent = text; }
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var done = false;
      try { done = document.execCommand("copy"); } catch (e) { done = false; }
      document.body.removeChild(area);
      if (done) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function setUpCopy() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        copyText(source.textContent).then(
          function () { say(button.getAttribute("data-done")); },
          function () { say(button.getAttribute("data-failed")); }
        );
      });
    });
  }

  function setUpMastodonLinks() {
    var host = stored();
    if (!host) { return; }
    var links = document.querySelectorAll("a[data-share-path]");
    Array.prototype.forEach.call(links, function (link) {
      link.href = "https://" + host + link.getAttribute("data-share-path");
    });
    var note = document.getElementById("mastodon-server");
    if (note) {
      note.querySelector("[data-instance]").textContent = host;
      note.hidden = false;
    }
  }

  function rotateVersions() {
    var main = document.querySelector("main[data-rotate]");
    if (!main) { return; }
    var sets = document.querySelectorAll("fieldset.versions");
    Array.prototype.forEach.call(sets, function (set) {
      var inputs = set.querySelectorAll("input[type=radio]");
      if (inputs.length > 1) {
        inputs[Math.floor(Math.random() * inputs.length)].checked = true;
      }
    });
  }

  function setUpChooser() {
    var form = document.getElementById("mastodon-form");
    if (!form) { return; }
    var text = new URLSearchParams(window.location.search).get("text");
    if (text) {
      document.getElementById("share-text").textContent = text;
      document.getElementById("share-preview").hidden = false;
      document.getElementById("text-field").value = text;
    }
    var input = document.getElementById("instance");
    input.value = stored();
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var host = hostOf(input.value);
      if (!host) {
        input.setAttribute("aria-invalid", "true");
        say(form.getAttribute("data-bad"));
        input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      remember(host);
      if (text) {
        window.location.assign("https://" + host + "/share?text=" + encodeURIComponent(text));
      } else {
        say(form.getAttribute("data-saved").replace("{host}", host));
      }
    });
    document.getElementById("forget").addEventListener("click", function () {
      forget();
      input.value = "";
      say(form.getAttribute("data-forgotten"));
    });
  }

  function start() {
    rotateVersions();
    setUpCopy();
    setUpMastodonLinks();
    setUpChooser();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
