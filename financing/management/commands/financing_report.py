from common.commands import ProjectCommand
from financing.selectors.report import financing_csv, financing_json, financing_report, financing_text

RENDERERS = {"text": financing_text, "csv": financing_csv, "json": financing_json}


class Command(ProjectCommand):
    help = (
        "Rapport de financement FISS : versements payés par année, vague et nature, enveloppe prévue et total général."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=sorted(RENDERERS), default="text")

    def handle(self, *args, format, **options):
        self.stdout.write(RENDERERS[format](financing_report()), ending="")
