// Dataset page while its file is validated (templates/admin/calculations/dataset/change_form.html):
// polls the status endpoint, updates the progress, reloads the page when validation ends.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var panel = document.getElementById("dataset-status");
  if (!panel || panel.dataset.final === "1") { return; }
  var delay = Number(panel.dataset.pollSeconds || 2) * 1000;
  function poll() {
    fetch(panel.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { return; }
        if (status.final) { window.location.reload(); return; }
        document.getElementById("dataset-status-label").textContent = status.status_label;
        document.getElementById("dataset-step").textContent = status.step || "–";
        document.getElementById("dataset-percent").textContent = status.percent;
        document.getElementById("dataset-progress").value = status.percent;
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, delay); });
  }
  window.setTimeout(poll, delay);
})();
