"""`python manage.py backup --outdir DIR`: the database (pg_dump) and every stored file, with a manifest
of their SHA-256 (ipep_site.backups; README « Backups »)."""

from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from common.formatting import format_integer


class Command(ProjectCommand):
    help = (
        "Sauvegarde la base PostgreSQL (pg_dump) et chaque fichier enregistré (disque ou compartiment S3) "
        "dans un dossier neuf, avec un manifeste de leurs empreintes SHA-256."
    )

    def add_arguments(self, parser):
        parser.add_argument("--outdir", type=Path, required=True, help="dossier de la sauvegarde (neuf ou vide)")

    def handle(self, *args, outdir: Path, **options):
        from django.db import connection

        from common.storage import project_storage
        from ipep_site.backups import BackupRefused, create_backup

        try:
            summary = create_backup(outdir, connection=connection, storage=project_storage())
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Sauvegarde écrite dans {summary.directory} : la base et "
                f"{format_integer(summary.files, separator=' ')} fichier(s), "
                f"{format_integer(summary.total_bytes, separator=' ')} octets, empreintes dans manifest.json."
            )
        )
