// django-import-export's export page (templates/admin/import_export/export.html): its « select all »
// box calls onSelectToggleChange from an inline onchange attribute, which the Content-Security-Policy
// blocks; the same handler, attached from a static file.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  if (typeof onSelectToggleChange !== "function") { return; }
  document.querySelectorAll("input.select-toggle").forEach(function (box) {
    box.addEventListener("change", onSelectToggleChange);
  });
});
