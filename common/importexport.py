"""django-import-export, hardened for every admin that uses it.

Exports: the formats below write every cell through `common.spreadsheets.safe_cell`; the export page
(FilteredExportMixin) answers an unknown or malformed filter in its address without an error 500.

Imports (settings.IMPORT_EXPORT_TMP_STORAGE_CLASS): between an import's preview and its confirmation the uploaded file waits on the server, and the
confirmation names it in a hidden field the browser sends back. The files wait in a directory that
only the server's user may enter, under names this storage made (uuid4 hex): any other name
(`planted`, `../x`, a file of /tmp) is refused as a suspicious operation (400), so a confirmation can
neither read nor delete a file the preview did not store. When the project's files are in a bucket
(IPEP_STORAGE=s3) the waiting file is there too (`imports/<name>`, private): the preview and the
confirmation may be served by two web hosts.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
import uuid
from pathlib import Path

import tablib
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.http import HttpResponseRedirect
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.tmp_storages import BaseStorage

from .spreadsheets import safe_row
from .storage import delete_stored, iter_chunks, project_storage

STORED_NAME = re.compile(r"[0-9a-f]{32}")
ABANDONED_AFTER_SECONDS = 24 * 3600  # a preview never confirmed
IMPORTS_DIRECTORY = "imports"  # in the bucket


def private_directory() -> Path:
    """settings.IMPORT_EXPORT_TMP_DIR, else a directory of the server's user in the system's temp
    directory; created 0700, and refused when another user owns it or may enter it."""
    configured = getattr(settings, "IMPORT_EXPORT_TMP_DIR", None)
    directory = Path(configured or Path(tempfile.gettempdir()) / f"ipep-imports-{os.getuid()}")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(directory)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ImproperlyConfigured(
            f"{directory} must be a directory of the server's user that no one else may enter (0700)."
        )
    return directory


class PrivateTempStorage(BaseStorage):
    def save(self, data):
        self.name = uuid.uuid4().hex
        if isinstance(data, str):
            data = data.encode(self.encoding or "utf-8")
        bucket = _bucket()
        if bucket is not None:
            _remove_abandoned_in(bucket)
            bucket.save(self._stored_name(), ContentFile(data))
            return
        _remove_abandoned(private_directory())
        descriptor = os.open(self.get_full_path(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)

    def read(self):
        bucket = _bucket()
        if bucket is not None:
            name = self._stored_name()
            if not bucket.exists(name):
                raise SuspiciousFileOperation("No import file of that name is waiting for its confirmation.")
            data = b"".join(iter_chunks(bucket, name))
            return data if "b" in self.read_mode else data.decode(self.encoding or "utf-8")
        path = self.get_full_path()
        if not os.path.isfile(path):
            raise SuspiciousFileOperation("No import file of that name is waiting for its confirmation.")
        with open(path, self.read_mode, encoding=None if "b" in self.read_mode else self.encoding) as handle:
            return handle.read()

    def remove(self):
        bucket = _bucket()
        if bucket is not None:
            delete_stored(bucket, self._stored_name())
            return
        os.remove(self.get_full_path())

    def get_full_path(self) -> str:
        return str(private_directory() / self._checked_name())

    def _stored_name(self) -> str:
        return f"{IMPORTS_DIRECTORY}/{self._checked_name()}"

    def _checked_name(self) -> str:
        if not STORED_NAME.fullmatch(self.name or ""):
            raise SuspiciousFileOperation("An import file name must be one the import's preview gave.")
        return self.name


def _bucket():
    """The project's storage when it is not the local disk (a bucket shared by every web host), else None."""
    storage = project_storage()
    return None if isinstance(storage, FileSystemStorage) else storage


def _remove_abandoned_in(storage) -> None:
    limit = time.time() - ABANDONED_AFTER_SECONDS
    try:
        names = storage.listdir(IMPORTS_DIRECTORY)[1]
    except FileNotFoundError:
        return
    for name in names:
        if STORED_NAME.fullmatch(name) and storage.get_modified_time(f"{IMPORTS_DIRECTORY}/{name}").timestamp() < limit:
            delete_stored(storage, f"{IMPORTS_DIRECTORY}/{name}")


def _remove_abandoned(directory: Path) -> None:
    limit = time.time() - ABANDONED_AFTER_SECONDS
    for path in directory.iterdir():
        try:
            if STORED_NAME.fullmatch(path.name) and path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:  # removed meanwhile by another worker
            continue


class SafeExport:
    """A django-import-export format whose exported cells go through `common.spreadsheets.safe_cell`
    (every admin export: the test of the admins checks that each export format is one)."""

    def export_data(self, dataset, **kwargs):
        safe = tablib.Dataset(headers=safe_row(dataset.headers or []), title=dataset.title)
        for row in dataset:
            safe.append(safe_row(row))
        return super().export_data(safe, **kwargs)


class SafeCSV(SafeExport, base_formats.CSV):
    pass


class SafeXLSX(SafeExport, base_formats.XLSX):
    pass


class FilteredExportMixin(ExportMixin):
    """The export page applies the change list's filters found in its address: an unknown or malformed
    one (a hand-edited address) brings back the page without them and says so, instead of an error 500."""

    def export_action(self, request):
        try:
            return super().export_action(request)
        except IncorrectLookupParameters:
            messages.error(request, "Filtre inconnu ou invalide dans l'adresse : il a été retiré de l'export.")
            return HttpResponseRedirect(request.path)
