// Live progress of a background task on an admin page (the dataset validation, the simulation): polls
// the status endpoint, updates the label, step, percent and bar in place, reloads the page when the task
// ends so the server renders the result. Everything page-specific comes from the panel's data attributes,
// as the Content-Security-Policy allows no inline script to pass it:
//   data-progress-panel, data-status-url, data-final ("1" when nothing is left to follow),
//   data-poll-seconds, data-label-id, data-step-id, data-percent-id, data-bar-id.
(function () {
  "use strict";
  function follow(panel) {
    if (panel.dataset.final === "1") { return; }
    var delay = Number(panel.dataset.pollSeconds || 2) * 1000;
    function show(id, text) {
      var element = id && document.getElementById(id);
      if (element) { element.textContent = text; }
    }
    function poll() {
      fetch(panel.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (status) {
          if (!status) { return; }
          if (status.final) { window.location.reload(); return; }
          show(panel.dataset.labelId, status.status_label);
          show(panel.dataset.stepId, status.step || "–");
          show(panel.dataset.percentId, status.percent);
          var bar = panel.dataset.barId && document.getElementById(panel.dataset.barId);
          if (bar) { bar.value = status.percent; }
        })
        .catch(function () {})  // a lost request: the next poll tries again
        .then(function () { window.setTimeout(poll, delay); });
    }
    window.setTimeout(poll, delay);
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-progress-panel]"), follow);
})();
