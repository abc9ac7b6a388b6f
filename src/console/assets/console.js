// carepath console: the only script. Keeps the vacancy board current from the server's event
// stream (EventSource, same origin, the session cookie authenticates it): on each change the
// board's current search is fetched again and its results replace the table, without a reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var results = document.getElementById("vacancy-results");
  if (!live || !results || !window.EventSource) { return; }
  var refreshing = false;
  function refresh() {
    if (refreshing) { return; }
    refreshing = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("vacancy-results");
        if (fresh) {
          results.replaceChildren.apply(results, Array.prototype.slice.call(fresh.childNodes));
          live.textContent = live.getAttribute("data-changed") + " " + new Date().toLocaleTimeString();
          live.setAttribute("data-updated", String(Date.now()));
        }
      })
      .catch(function () {})
      .then(function () { refreshing = false; });
  }
  var source = new EventSource(live.getAttribute("data-stream"));
  source.addEventListener("vacancy", refresh);
  source.addEventListener("open", function () { live.setAttribute("data-connected", "true"); });
})();
