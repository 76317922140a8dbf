"""`python manage.py verify_integrity`: every stored file checked against the SHA-256 recorded when it
was written (datasets' Parquet, raw uploads awaiting validation, statement PDFs), on the local disk or
in the bucket, read in chunks.

Exit status 0 when every file matches; 1 when one is missing or altered, each named on stderr.
"""

import time

from django.core.management.base import CommandError

from calculations.selectors.datasets import stored_dataset_files
from common.commands import ProjectCommand
from common.formatting import format_integer, format_number
from common.storage import integrity_problem, project_storage
from reports.selectors import stored_statement_files


def storage_description(storage) -> str:
    bucket = getattr(storage, "bucket_name", None)
    if bucket:
        return f"compartiment S3 « {bucket} »"
    return f"dossier {getattr(storage, 'location', '?')}"


class Command(ProjectCommand):
    help = (
        "Vérifie chaque fichier enregistré (Parquet des jeux de données, dépôts en attente, relevés PDF) "
        "contre l'empreinte SHA-256 notée à son écriture ; code de sortie 1 si l'un manque ou a changé."
    )

    def handle(self, *args, **options):
        storage = project_storage()
        started = time.monotonic()
        files = [*stored_dataset_files(), *stored_statement_files()]
        self.stdout.write(
            f"Vérification de {format_integer(len(files), separator=' ')} fichier(s) ({storage_description(storage)})…"
        )
        problems = []
        for stored in files:
            problem = integrity_problem(storage, stored.name, stored.sha256)
            if problem is not None:
                problems.append(f"{stored.label} : {problem}")
                self.stderr.write(f"NON CONFORME – {stored.label} : {problem}")
        seconds = format_number(time.monotonic() - started, 1, separator=" ")
        if problems:
            raise CommandError(
                f"{len(problems)} fichier(s) sur {len(files)} manquant(s) ou modifié(s) depuis leur écriture "
                f"(vérifié en {seconds} s)."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{format_integer(len(files), separator=' ')} fichier(s) conforme(s) à leur empreinte SHA-256 "
                f"(vérifié en {seconds} s)."
            )
        )
