"""`python manage.py ingest_file PATH --year Y`: validate a national beneficiaries file and store it as
an immutable dataset (METHODOLOGY.md section 3), with a progress bar on stderr.

Exit status 0 when the file is valid (or was already ingested valid), 1 when it is rejected: every
problem is then printed to stderr as `file:line: column: reason`.
"""

import time

from django.core.management.base import CommandError
from django.utils import timezone

from calculations.models import Dataset
from calculations.selectors.datasets import dataset_problem_lines
from calculations.services.datasets import DatasetError, ingest_dataset
from common.commands import ProjectCommand
from common.formatting import format_integer, format_money

BAR_WIDTH = 30


class ProgressBar:
    """`[#########.....]  42 % step` redrawn in place on a terminal, one line per step otherwise."""

    def __init__(self, stream, interval: float = 0.2):
        self.stream, self.interval = stream, interval
        self.last_draw = 0.0
        self.last_step = None
        self.interactive = getattr(stream, "isatty", lambda: False)()

    def __call__(self, fraction: float, step: str) -> None:
        now = time.monotonic()
        if self.interactive:
            if now - self.last_draw < self.interval and fraction < 1.0:
                return
            filled = int(BAR_WIDTH * fraction)
            self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction * 100:3.0f} % {step[:40]:<40}")
        elif step != self.last_step:
            self.stream.write(f"{fraction * 100:3.0f} % {step}\n")
        self.stream.flush()
        self.last_draw, self.last_step = now, step

    def close(self) -> None:
        if self.interactive and self.last_draw:
            self.stream.write("\n")
            self.stream.flush()


class Command(ProjectCommand):
    help = "Valide un fichier beneficiaires_Y.csv national et l'enregistre en jeu de données immuable (Parquet)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="fichier CSV des bénéficiaires")
        parser.add_argument("--year", type=int, required=True, help="année Y des données")
        parser.add_argument("--name", help="nom de fichier d'origine à enregistrer (par défaut celui de PATH)")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def handle(self, *args, path, year, name=None, no_progress=False, **options):
        bar = None if no_progress else ProgressBar(self.stderr._out)  # the raw stream: the bar redraws one line
        started = timezone.now()
        try:
            dataset = ingest_dataset(path=path, year=year, original_name=name, progress=bar)
        except DatasetError as error:
            raise CommandError("\n".join(error.messages)) from None
        finally:
            if bar:
                bar.close()
        again = dataset.created_at < started
        if dataset.status == Dataset.Status.VALID:
            profile = dataset.profile
            prefix = "déjà enregistré" if again else "valide"
            self.stdout.write(
                f"Jeu de données n° {dataset.pk} ({dataset.year}) {prefix} : {format_integer(dataset.row_count, separator=' ')} lignes, "
                f"dépenses {format_money(profile.get('depenses_total'), separator=' ')}, SHA-256 {dataset.sha256}\n"
                f"Parquet : {dataset.parquet_file.name} (SHA-256 {dataset.parquet_sha256})"
            )
            for warning in dataset.warnings:
                self.stderr.write(f"avertissement : {warning}")
            return
        if dataset.status == Dataset.Status.REJECTED:
            for line in dataset_problem_lines(dataset):
                self.stderr.write(line)
            prefix = "déjà rejeté" if again else "rejeté"
            raise CommandError(f"Jeu de données n° {dataset.pk} {prefix} : {dataset.problem_count} problème(s).")
        raise CommandError(
            f"Jeu de données n° {dataset.pk} : {dataset.get_status_display()} (validation en cours ailleurs)."
        )
