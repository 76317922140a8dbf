"""The public results page (`/donnees-publiques/`), open to anyone without an account: what the file is,
its columns and the method, with the files as last rebuilt (services.refresh_public_file)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_safe

from common.storage import project_storage

from . import public_data, services

CONTENT_TYPES = {
    public_data.CSV_NAME: "text/csv; charset=utf-8",
    public_data.XLSX_NAME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    public_data.SCHEMA_NAME: "application/json",
}


@require_safe
def public_data_page(request):
    manifest = services.public_manifest()
    context = {
        "manifest": manifest,
        "generated_at": parse_datetime(manifest["generated_at"]) if manifest else None,
        "columns": public_data.COLUMNS,
        "secrecy_threshold": public_data.SECRECY_THRESHOLD,
        "files": manifest["files"] if manifest else {},
        "names": {"csv": public_data.CSV_NAME, "xlsx": public_data.XLSX_NAME, "schema": public_data.SCHEMA_NAME},
    }
    return render(request, "public/donnees_publiques.html", context)


def _download(name: str):
    storage = project_storage()
    stored = services.public_file_name(name)
    if not storage.exists(stored):
        raise Http404("Fichier public pas encore produit.")
    response = FileResponse(
        storage.open(stored, "rb"), as_attachment=True, filename=name, content_type=CONTENT_TYPES[name]
    )
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_safe
def public_csv(request):
    return _download(public_data.CSV_NAME)


@require_safe
def public_xlsx(request):
    return _download(public_data.XLSX_NAME)


@require_safe
def public_schema(request):
    return _download(public_data.SCHEMA_NAME)
