"""`python manage.py restore DIR`: a backup of `manage.py backup` into an empty database and the
configured storage, after checking every file against the manifest (ipep_site.backups)."""

from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from common.formatting import format_integer


class Command(ProjectCommand):
    help = (
        "Restaure une sauvegarde de `backup` dans une base PostgreSQL vide et le stockage configuré, "
        "après vérification de chaque fichier contre le manifeste."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="dossier écrit par `backup --outdir`")

    def handle(self, *args, directory: Path, **options):
        from django.db import connection

        from common.storage import project_storage
        from ipep_site.backups import BackupRefused, restore_backup

        try:
            summary = restore_backup(directory, connection=connection, storage=project_storage())
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Sauvegarde {summary.directory} restaurée : la base et "
                f"{format_integer(summary.files, separator=' ')} fichier(s), conformes au manifeste. "
                "Lancez `manage.py verify_integrity` puis redémarrez les services."
            )
        )
