"""`manage.py backup` then `manage.py restore` into an empty database: a published campaign comes back
identical (every table, the audit trail's events and contexts included, and each statement's PDF), and
the freeze of published results still holds in the restored database."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from psycopg import sql

from reports import services
from reports.models import Statement
from tests.reports.factories import golden_campaign

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not settings.USES_POSTGRES, reason="pg_dump / pg_restore: set DATABASE_URL"),
]


def connect(database: str, **options):
    parameters = connection.settings_dict
    return psycopg.connect(
        dbname=database,
        host=parameters["HOST"] or None,
        port=parameters["PORT"] or None,
        user=parameters["USER"] or None,
        password=parameters["PASSWORD"] or None,
        **options,
    )


def every_row(database: str) -> dict[str, list[tuple]]:
    """Each table of the public schema, every row, in a stable order."""
    with connect(database) as db:
        tables = [
            name for (name,) in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ]
        return {
            table: db.execute(sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(table))).fetchall()
            for table in tables
        }


@pytest.fixture
def empty_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with connect("postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connect("postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restore(directory: Path, database: str, media: Path) -> subprocess.CompletedProcess:
    parameters = connection.settings_dict
    url = f"postgres://{parameters['USER']}@{parameters['HOST']}:{parameters['PORT']}/{database}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "IPEP_"))}
    environment.update(DATABASE_URL=url, MEDIA_ROOT=str(media), CELERY_BROKER_URL="memory://")
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(directory)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_brings_back_a_published_campaign_identical(media_root, tmp_path, empty_database, capsys):
    campaign = golden_campaign(status="published", codes=["G001", "G002"])
    services.render_campaign_statements(campaign=campaign)
    statement = Statement.objects.filter(campaign=campaign, draft=False).order_by("pk").first()
    original_pdf = (media_root / statement.file.name).read_bytes()
    backup = tmp_path / "sauvegarde-2026-11-27"

    call_command("backup", outdir=backup)

    assert "Sauvegarde écrite" in capsys.readouterr().out
    manifest = json.loads((backup / "manifest.json").read_text())
    stored = sorted(p.relative_to(media_root).as_posix() for p in media_root.rglob("*") if p.is_file())
    assert [entry["name"] for entry in manifest["files"]] == stored and stored
    for entry in manifest["files"]:
        assert hashlib.sha256((backup / "files" / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert (backup / "SHA256SUMS").read_text().count("\n") == len(stored) + 1

    restored_media = tmp_path / "restored-media"
    finished = restore(backup, empty_database, restored_media)
    assert finished.returncode == 0, finished.stderr
    assert "restaurée" in finished.stdout

    original, restored = every_row(connection.settings_dict["NAME"]), every_row(empty_database)
    assert set(restored) == set(original)
    for table, rows in original.items():
        assert restored[table] == rows, table
    # What the test means by identical, named: the statements, the cents, the audit trail.
    assert original["reports_statement"] and original["calculations_groupementresult"]
    assert original["calculations_campaignevent"] and original["groupements_groupementevent"]
    for path in media_root.rglob("*"):
        if path.is_file():
            assert (restored_media / path.relative_to(media_root)).read_bytes() == path.read_bytes()
    assert (restored_media / statement.file.name).read_bytes() == original_pdf
    assert hashlib.sha256(original_pdf).hexdigest() == statement.sha256

    # The published results stay frozen in the restored database (trigger of calculations 0005).
    with connect(empty_database) as db, pytest.raises(psycopg.Error, match="frozen"):
        db.execute("UPDATE calculations_groupementresult SET final_amount = final_amount + 1")


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_and_an_altered_backup(media_root, tmp_path, empty_database):
    golden_campaign(status="published", codes=["G001"])
    backup = tmp_path / "sauvegarde"
    call_command("backup", outdir=backup)

    refused = restore(backup, connection.settings_dict["NAME"], tmp_path / "unused")
    assert refused.returncode == 1
    assert "n'est pas vide" in refused.stderr

    with (backup / "database.dump").open("r+b") as dump:
        dump.seek(100)
        dump.write(b"\x00altered\x00")
    refused = restore(backup, empty_database, tmp_path / "unused")
    assert refused.returncode == 1
    assert "database.dump : ne correspond pas à son empreinte SHA-256" in refused.stderr
    with connect(empty_database) as db:
        assert db.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)


@pytest.mark.django_db
def test_backup_refuses_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "old").write_text("x")
    with pytest.raises(Exception, match="n'est pas vide"):
        call_command("backup", outdir=tmp_path)
