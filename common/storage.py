"""Where the project's files live, through Django's storage API, and how their checksums are kept honest.

Every stored file (a dataset's Parquet, a raw upload awaiting validation, a statement PDF) is a name in
`default_storage` (settings.STORAGES["default"]): `LocalStorage` under MEDIA_ROOT by default, or
`common.s3.ObjectStorage` in an S3-compatible bucket (IPEP_STORAGE=s3). Services never build a local
path to a stored file: they save, stream, open for Polars and delete through the functions below, so
moving the files is a matter of settings.

Names are content-addressed (they carry a SHA-256), so a name is written once with the bytes it names:
`store_immutable` writes nothing when the name already holds those bytes. Both backends publish a file
atomically (a temporary name then a rename on disk; a single PUT or multipart completion in a bucket),
so a reader never sees half a file. Checksums are computed and verified in chunks: files are GBs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from common.errors import ActionRefused

CHUNK_SIZE = 8 << 20  # what a checksum or a copy holds in memory at any time
SCRATCH_DIRECTORY = ".scratch"


@dataclass(frozen=True)
class StoredFile:
    """A stored file and the SHA-256 recorded when it was written (what `verify_integrity` checks)."""

    label: str  # French, names the object the file belongs to
    name: str
    sha256: str


class FileIntegrityError(ActionRefused):
    """A stored file is missing or no longer has the SHA-256 recorded when it was written."""


class TemporaryFile(File):
    """A local temporary file handed to a storage, which may move it instead of copying it (Django's
    `temporary_file_path` protocol, as for uploads kept on disk)."""

    def __init__(self, path: Path | str):
        self._path = str(path)
        super().__init__(open(path, "rb"), name=Path(path).name)  # noqa: SIM115 - closed by the caller

    def temporary_file_path(self) -> str:
        return self._path


class LocalStorage(FileSystemStorage):
    """MEDIA_ROOT, with files published atomically (written under a temporary name in the target
    directory, then renamed) and names overwritten in place (they are content-addressed)."""

    def __init__(self, **options):
        options.setdefault("allow_overwrite", True)
        super().__init__(**options)

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
        os.close(handle)
        try:
            if not _moved(content, temporary):
                with open(temporary, "wb") as target:
                    content.seek(0)
                    while chunk := content.read(CHUNK_SIZE):
                        target.write(chunk)
                    target.flush()
                    os.fsync(target.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(temporary, self.file_permissions_mode)
            os.replace(temporary, full_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return str(name).replace("\\", "/")

    def iter_chunks(self, name: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        with open(self.path(name), "rb") as stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    def polars_source(self, name: str) -> tuple[str, dict | None]:
        return self.path(name), None

    @contextlib.contextmanager
    def local_path(self, name: str) -> Iterator[Path]:
        yield Path(self.path(name))

    def scratch_directory(self) -> Path:
        """Temporary files beside the stored ones, so that publishing one is a rename, not a copy."""
        directory = Path(self.location) / SCRATCH_DIRECTORY
        directory.mkdir(parents=True, exist_ok=True)
        return directory


def _moved(content, target: str) -> bool:
    """Moves a local temporary file (`temporary_file_path`) to `target` when both are on one file system."""
    if not hasattr(content, "temporary_file_path"):
        return False
    try:
        os.replace(content.temporary_file_path(), target)
    except OSError:
        return False
    return True


# --- what services call (any Django storage works; the project's backends do it best) -------------


def project_storage() -> Storage:
    return default_storage


def iter_chunks(storage: Storage, name: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The stored bytes of `name`, streamed (never the whole file in memory or on disk)."""
    streaming = getattr(storage, "iter_chunks", None)
    if streaming is not None:
        yield from streaming(name, chunk_size)
        return
    with storage.open(name, "rb") as stream:
        while chunk := stream.read(chunk_size):
            yield chunk


def stored_sha256(storage: Storage, name: str) -> str:
    """SHA-256 of a stored file, read in chunks; FileNotFoundError when it is not there."""
    if not storage.exists(name):
        raise FileNotFoundError(name)
    digest = hashlib.sha256()
    for chunk in iter_chunks(storage, name):
        digest.update(chunk)
    return digest.hexdigest()


def local_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def integrity_problem(storage: Storage, name: str, expected_sha256: str) -> str | None:
    """None when `name` holds the bytes of `expected_sha256`, else what is wrong, in French."""
    if not name:
        return "aucun fichier enregistré"
    if not expected_sha256:
        return f"aucune empreinte SHA-256 enregistrée pour {name}"
    try:
        found = stored_sha256(storage, name)
    except FileNotFoundError:
        return f"fichier {name} introuvable"
    if found != expected_sha256:
        return (
            f"le fichier {name} ne correspond plus à son empreinte SHA-256 "
            f"(enregistrée {expected_sha256[:16]}…, trouvée {found[:16]}…)"
        )
    return None


def verified_copy(storage: Storage, name: str, expected_sha256: str, *, label: str, in_memory: int = 16 << 20):
    """The stored bytes, read once in chunks while hashed, as a temporary file positioned at its start
    (in memory up to `in_memory` bytes, then on the local disk, removed on close): what is served is
    exactly what was verified. Raises FileIntegrityError when the file is missing or was changed."""
    if not name or not storage.exists(name):
        raise FileIntegrityError(f"{label} : fichier {name or '(aucun)'} introuvable.")
    copy = tempfile.SpooledTemporaryFile(max_size=in_memory, prefix="ipep-")  # noqa: SIM115 - returned open
    digest = hashlib.sha256()
    try:
        for chunk in iter_chunks(storage, name):
            digest.update(chunk)
            copy.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise FileIntegrityError(
                f"{label} : le fichier {name} ne correspond plus à son empreinte SHA-256 "
                f"(enregistrée {expected_sha256[:16]}…, trouvée {digest.hexdigest()[:16]}…)."
            )
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy


def store_immutable(storage: Storage, name: str, content: File, *, sha256: str) -> bool:
    """Stores `content` (whose SHA-256 is `sha256`) as `name`; returns False when the name already held
    those bytes (nothing written). A name holding other bytes (a torn or tampered copy) is replaced."""
    if storage.exists(name) and integrity_problem(storage, name, sha256) is None:
        return False
    saved = storage.save(name, content)
    if saved != name:
        raise RuntimeError(f"storage {type(storage).__name__} renamed {name} to {saved}: allow overwriting")
    return True


def delete_stored(storage: Storage, name: str) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError):
            storage.delete(name)


def polars_source(storage: Storage, name: str) -> tuple[str, dict | None]:
    """What `polars.scan_parquet` opens for a stored file: a local path, or an `s3://` URL with its
    `storage_options` (read straight from the bucket, streaming)."""
    opener = getattr(storage, "polars_source", None)
    if opener is not None:
        return opener(name)
    return storage.path(name), None


@contextlib.contextmanager
def local_path(storage: Storage, name: str) -> Iterator[Path]:
    """A local path to a stored file, for readers that need one (the validation of a raw upload): the
    file itself on a local storage, else a temporary copy removed on exit, success or failure."""
    local = getattr(storage, "local_path", None)
    if local is not None:
        with local(name) as path:
            yield path
        return
    with scratch_directory(storage) as directory:
        path = Path(directory) / Path(name).name
        with open(path, "wb") as target:
            for chunk in iter_chunks(storage, name):
                target.write(chunk)
        yield path


@contextlib.contextmanager
def scratch_directory(storage: Storage | None = None) -> Iterator[Path]:
    """A temporary directory, removed on exit whatever happens: beside the stored files on a local
    storage (publishing is then a rename), else in the system's temporary directory."""
    storage = storage or project_storage()
    parent = storage.scratch_directory() if hasattr(storage, "scratch_directory") else None
    directory = tempfile.mkdtemp(prefix="ipep-", dir=parent)
    try:
        yield Path(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
