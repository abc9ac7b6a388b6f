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

// The care-plan upload: the chosen CSV files go up as base64 in one JSON payload (the form has no
// multipart body), so the server answers with the whole send unit's result at once.
(function () {
  "use strict";
  var form = document.getElementById("plan-upload");
  var input = document.getElementById("plan-files");
  var payload = document.getElementById("plan-payload");
  if (!form || !input || !payload || !window.FileReader) { return; }
  form.addEventListener("submit", function (event) {
    if (payload.value) { return; }
    event.preventDefault();
    var files = Array.prototype.slice.call(input.files);
    Promise.all(files.map(function (file) {
      return new Promise(function (resolve, reject) {
        var reader = new FileReader();
        reader.onload = function () {
          var url = String(reader.result);
          resolve({ name: file.name, content: url.slice(url.indexOf(",") + 1) });
        };
        reader.onerror = reject;
        reader.readAsDataURL(file);
      });
    })).then(function (list) {
      payload.value = JSON.stringify({ files: list });
      form.submit();
    });
  });
})();

// Drafts: what is typed into a form marked `data-draft` is kept in this tab's sessionStorage
// (gone when the tab closes) until the form has been sent and the page it leads to says it was
// taken (`data-draft-done` names the draft); so a session that ends mid-sentence loses nothing,
// and the next visit to the form after signing in again restores it.
(function () {
  "use strict";
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) { return; }
  var pending = store.getItem("draft:pending");
  var done = document.querySelector("[data-draft-done]");
  if (pending && done && done.getAttribute("data-draft-done").split(" ").indexOf(pending) >= 0) {
    store.removeItem("draft:" + pending);
    store.removeItem("draft:pending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft]"), function (form) {
    var name = form.getAttribute("data-draft");
    var key = "draft:" + name;
    var fields = Array.prototype.filter.call(form.elements, function (e) {
      return e.name && e.name !== "csrf" && e.type !== "hidden" && e.type !== "submit";
    });
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    var typed = fields.some(function (e) { return e.tagName === "TEXTAREA" && e.value !== ""; });
    if (saved && !typed) {
      fields.forEach(function (e) {
        if (Object.prototype.hasOwnProperty.call(saved, e.name)) { e.value = saved[e.name]; }
      });
      var notice = form.querySelector("[data-draft-notice]");
      if (notice) { notice.hidden = false; }
      form.setAttribute("data-draft-restored", "true");
    }
    function save() {
      var values = {};
      fields.forEach(function (e) { values[e.name] = e.value; });
      store.setItem(key, JSON.stringify(values));
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function () { save(); store.setItem("draft:pending", name); });
  });
})();
