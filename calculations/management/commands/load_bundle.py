from django.core.management.base import CommandError

from calculations.bundle import BundleError
from calculations.services.reference import load_reference_bundle
from common.commands import ProjectCommand


class Command(ProjectCommand):
    help = "Charge les fichiers de référence d'un lot (vagues, calendrier, groupements, membres, indicateurs, déciles, résultats, expérience patient)."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="dossier du lot (bundle)")

    def handle(self, *args, directory, **options):
        try:
            summary = load_reference_bundle(directory=directory)
        except BundleError as error:
            for line in error.lines():
                self.stderr.write(line)
            raise CommandError(f"{error.problem_count} problème(s) : rien n'a été chargé.") from None
        for warning in summary.warnings:
            self.stderr.write(f"avertissement : {warning}")
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS("Lot chargé." if summary.changed else "Lot déjà chargé : rien n'a changé.")
        )
