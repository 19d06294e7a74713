/* Recomputes every published draw proof on the page (class "draw-proof") in the browser, with
   nothing but the Web Crypto API; the server's own check is printed beside it. A static file, so
   that a Content-Security-Policy without 'unsafe-inline' allows it. The texts come translated in
   the element's data-text-ok / data-text-bad attributes. */
(function () {
  "use strict";
  if (!window.crypto || !window.crypto.subtle || !window.TextEncoder || typeof BigInt !== "function") { return; }
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }
  function bytes(h) {
    if (!/^[0-9a-f]*$/.test(h) || h.length % 2) { return null; }
    var a = new Uint8Array(h.length / 2);
    for (var i = 0; i < a.length; i++) { a[i] = parseInt(h.substr(i * 2, 2), 16); }
    return a;
  }
  function sha(data) { return window.crypto.subtle.digest("SHA-256", data).then(hex); }
  function check(el) {
    var d = el.dataset, out = el.querySelector(".js-check");
    if (!out) { return; }
    var cands, secret = bytes(d.secret || "");
    try { cands = JSON.parse(d.candidates || "[]"); } catch (e) { cands = []; }
    function show(ok, index) {
      out.textContent = ok ? (d.textOk || "").replace("{index}", index) : (d.textBad || "");
      out.className = ok ? "js-check ok" : "js-check error";
    }
    if (secret === null || !cands.length) { show(false); return; }
    var sorted = cands.slice().sort();
    var isSorted = sorted.every(function (c, i) { return c === cands[i]; });
    Promise.all([
      sha(secret),
      sha(new TextEncoder().encode(d.secret + ":" + d.ref + ":" + cands.join(",")))
    ]).then(function (r) {
      var index = Number(BigInt("0x" + r[1]) % BigInt(cands.length));
      var ok = isSorted && r[0] === d.commitment && r[1] === d.seed && index === Number(d.index) && cands[index] === d.winner;
      show(ok, index);
    });
  }
  function run() { document.querySelectorAll(".draw-proof").forEach(check); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", run); } else { run(); }
})();
