// Keeps a part of the page current without a reload: every few seconds it fetches the
// part's own URL (data-live-url) and swaps it in when it changed. Paused while the tab is
// hidden; a failed fetch is retried at the next turn, with a note on the page meanwhile.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-live-url");
  var seconds = Number(live.getAttribute("data-live-seconds")) || 5;
  var note = document.createElement("p");
  note.className = "live-note";
  note.setAttribute("role", "status");
  live.parentNode.insertBefore(note, live);
  var last = live.innerHTML;

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          note.textContent = "Signed out: reload the page to sign in again.";
          return null;
        }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        note.textContent = "";
        if (html !== last) {
          live.innerHTML = html;
          last = html;
        }
        live.setAttribute("data-refreshed", new Date().toISOString());
      })
      .catch(function () {
        note.textContent = "Could not refresh; trying again in " + seconds + " s.";
      });
  }

  setInterval(refresh, seconds * 1000);
  document.addEventListener("visibilitychange", refresh);
}());
