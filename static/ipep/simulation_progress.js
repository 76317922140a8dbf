// Simulation page while the Celery task computes (templates/admin/calculations/simulation/detail.html):
// polls the status endpoint, updates the progress, reloads the page (the difference table) at the end.
// The pattern of dataset_progress.js; a static file, as the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var panel = document.getElementById("simulation-status");
  if (!panel || panel.dataset.final === "1") { return; }
  var delay = Number(panel.dataset.pollSeconds || 1) * 1000;
  function poll() {
    fetch(panel.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        if (status.final) { window.location.reload(); return; }
        document.getElementById("simulation-status-label").textContent = status.status_label;
        document.getElementById("simulation-step").textContent = status.step || "–";
        document.getElementById("simulation-percent").textContent = status.percent;
        document.getElementById("simulation-progress").value = status.percent;
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
