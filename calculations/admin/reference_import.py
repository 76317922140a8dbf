"""The upload page of the reference tables (linked from each table's change list): one file, checked
by the bundle's rules, refused as a whole with `file:line: column: reason` lines or written, or only
checked and counted. Mounted under /admin/ by the site's URLs (`reference_import`)."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse

from calculations.bundle import BundleError
from calculations.services import reference_import as services

MAX_FILE_SIZE = 20 * 1024 * 1024  # reference tables are small: members of every groupement fit many times over


class ReferenceFileForm(forms.Form):
    file = forms.FileField(
        label="Fichier",
        help_text="Fichier CSV séparé par des points-virgules ou des virgules, encodé en UTF-8 ou en Windows-1252, "
        "ou classeur XLSX.",
    )
    dry_run = forms.BooleanField(label="Vérifier seulement (ne rien enregistrer)", required=False)

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_FILE_SIZE:
            raise forms.ValidationError(
                f"Fichier trop volumineux ({filesizeformat(uploaded.size)}) : au plus {filesizeformat(MAX_FILE_SIZE)}."
            )
        return uploaded


def reference_import_view(request, model_name: str):
    if model_name not in services.REFERENCE_TABLES:
        raise Http404
    opts = apps.get_model("groupements", model_name)._meta
    if not request.user.has_perm(services.import_permission(model_name)):
        raise PermissionDenied
    form = ReferenceFileForm(request.POST or None, request.FILES or None)
    problems, checked = [], None
    if request.method == "POST" and form.is_valid():
        uploaded, dry_run = form.cleaned_data["file"], form.cleaned_data["dry_run"]
        try:
            summary = services.import_reference_table(
                model_name=model_name,
                file_name=Path(uploaded.name or "fichier.csv").name,
                content=uploaded.read(),
                user=request.user,
                dry_run=dry_run,
            )
        except BundleError as error:
            problems = error.lines()
        else:
            if dry_run:
                checked = summary
            else:
                for line in [*summary.lines(), *(f"avertissement : {w}" for w in summary.warnings)]:
                    messages.success(request, line)
                return HttpResponseRedirect(reverse(f"admin:groupements_{model_name}_changelist"))
    context = {
        **admin.site.each_context(request),
        "opts": opts,
        "title": f"Importer : {opts.verbose_name_plural}",
        "form": form,
        "columns": services.expected_columns(model_name),
        "yearly": services.is_yearly(model_name),
        "problems": problems,
        "checked": checked,
    }
    return TemplateResponse(request, "admin/groupements/reference_import.html", context)


urlpatterns = [
    path(
        "groupements/<str:model_name>/importer/",
        admin.site.admin_view(reference_import_view),
        name="reference_import",
    )
]
