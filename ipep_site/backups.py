"""Backups: the PostgreSQL database (pg_dump, custom format) and every stored file (local MEDIA_ROOT or
the bucket), with a manifest of their SHA-256; restored into an empty database.

A backup directory holds `database.dump`, `files/<stored name>`, `manifest.json` (sizes and SHA-256 of
each, the date, the format) and `SHA256SUMS` (the same checksums, for `sha256sum -c` by hand). The
dump is taken first, then the files: stored names are content-addressed and written once, so every file
a row of the dump points to is there when the files are copied. The schema comes back whole, the audit
trail's triggers (django-pghistory) and the freeze of published results (pgtrigger) included.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage
from django.utils import timezone

from common.errors import ActionRefused
from common.storage import SCRATCH_DIRECTORY, integrity_problem, iter_chunks, local_sha256

FORMAT = 1
DUMP = "database.dump"
FILES = "files"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"


class BackupRefused(ActionRefused):
    pass


@dataclass(frozen=True)
class Summary:
    directory: Path
    files: int
    total_bytes: int


def _postgres(connection) -> tuple[list[str], dict[str, str], str]:
    """Options, environment (password) and database name of pg_dump / pg_restore for `connection`."""
    if connection.vendor != "postgresql":
        raise BackupRefused(
            "Sauvegarde et restauration : PostgreSQL seulement (DATABASE_URL). En mode embarqué, "
            "copiez db.sqlite3 et le dossier MEDIA_ROOT, serveur arrêté."
        )
    database = connection.settings_dict
    options = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            options += [flag, str(database[key])]
    environment = {**os.environ}
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = str(database["PASSWORD"])
    return options, environment, database["NAME"]


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    try:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupRefused(f"{command[0]} introuvable : installez postgresql-client.") from None
    if finished.returncode != 0:
        raise BackupRefused(f"{what} a échoué ({command[0]}, code {finished.returncode}) :\n{finished.stderr.strip()}")


def stored_names(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every stored file, sorted; not the scratch files of work in progress nor files being written."""
    subdirectories, files = storage.listdir(directory)
    for name in sorted(files):
        if not name.startswith(".tmp-"):
            yield f"{directory}/{name}" if directory else name
    for subdirectory in sorted(subdirectories):
        if not (directory == "" and subdirectory == SCRATCH_DIRECTORY):
            yield from stored_names(storage, f"{directory}/{subdirectory}" if directory else subdirectory)


def _copy_out(storage: Storage, name: str, target: Path) -> dict:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(target, "xb") as output:
        for chunk in iter_chunks(storage, name):
            digest.update(chunk)
            size += len(chunk)
            output.write(chunk)
    return {"name": name, "size": size, "sha256": digest.hexdigest()}


def create_backup(directory: Path, *, connection, storage: Storage) -> Summary:
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupRefused(f"Le dossier {directory} n'est pas vide : une sauvegarde va dans un dossier neuf.")
    directory.mkdir(parents=True, exist_ok=True)
    options, environment, database = _postgres(connection)
    dump = directory / DUMP
    # No owner nor privileges: restored by whichever role owns the new database.
    command = ["pg_dump", *options, "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", database]
    _run(command, environment, "La copie de la base")
    files = [_copy_out(storage, name, directory / FILES / name) for name in stored_names(storage)]
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {"name": DUMP, "size": dump.stat().st_size, "sha256": local_sha256(dump)},
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    lines = [f"{manifest['database']['sha256']}  {DUMP}"] + [f"{f['sha256']}  {FILES}/{f['name']}" for f in files]
    (directory / SUMS).write_text("\n".join(lines) + "\n")
    total = manifest["database"]["size"] + sum(f["size"] for f in files)
    return Summary(directory=directory, files=len(files), total_bytes=total)


def verified_manifest(directory: Path) -> dict:
    """The manifest, once every file it lists is there with its SHA-256; else every problem, named."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupRefused(f"{directory / MANIFEST} illisible : {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"{directory / MANIFEST} : format {manifest.get('format')!r} inconnu (attendu {FORMAT}).")
    entries = [(DUMP, manifest["database"])] + [(f"{FILES}/{f['name']}", f) for f in manifest["files"]]
    problems = []
    for relative, entry in entries:
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative} : manquant")
        elif local_sha256(path) != entry["sha256"]:
            problems.append(f"{relative} : ne correspond pas à son empreinte SHA-256 du manifeste")
    if problems:
        raise BackupRefused("Sauvegarde altérée, rien n'est restauré :\n" + "\n".join(problems))
    return manifest


def _database_is_empty(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        )
        return cursor.fetchone()[0] == 0


def restore_backup(directory: Path, *, connection, storage: Storage) -> Summary:
    directory = Path(directory)
    manifest = verified_manifest(directory)
    options, environment, database = _postgres(connection)
    if not _database_is_empty(connection):
        raise BackupRefused(
            f"La base {database} n'est pas vide : restaurez dans une base neuve (createdb), jamais par-dessus."
        )
    connection.close()  # pg_restore creates the schema; Django reconnects afterwards
    # One transaction: a failure leaves the database empty, as it was.
    command = ["pg_restore", *options, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    _run([*command, f"--dbname={database}", str(directory / DUMP)], environment, "La restauration de la base")
    for entry in manifest["files"]:
        with open(directory / FILES / entry["name"], "rb") as source:
            storage.save(entry["name"], File(source, name=entry["name"]))
        problem = integrity_problem(storage, entry["name"], entry["sha256"])
        if problem is not None:
            raise BackupRefused(f"Fichier restauré non conforme : {problem}")
    total = manifest["database"]["size"] + sum(f["size"] for f in manifest["files"])
    return Summary(directory=directory, files=len(manifest["files"]), total_bytes=total)
