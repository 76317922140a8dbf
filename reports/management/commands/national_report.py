"""Export the national report of the latest campaign version of a year (PDF, CSV or XLSX)."""

from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from reports import national, selectors

EXPORTERS = {
    ".pdf": national.national_report_pdf,
    ".csv": national.national_report_csv,
    ".xlsx": national.national_report_xlsx,
}


class Command(ProjectCommand):
    help = "Écrit le rapport national d'une campagne ; le format suit l'extension du fichier (.pdf, .csv, .xlsx)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--campaign-version",
            dest="campaign_version",
            type=int,
            help="version de la campagne (par défaut la dernière avec des résultats)",
        )
        parser.add_argument("--output", type=Path, required=True)

    def handle(self, *args, year, campaign_version, output, **options):
        version = campaign_version
        exporter = EXPORTERS.get(output.suffix.lower())
        if exporter is None:
            raise CommandError(f"{output}: extension inconnue (attendu : {', '.join(EXPORTERS)})")
        if version is None:
            campaign = selectors.latest_campaign_with_results(year)
        else:
            campaign = (
                selectors.Campaign.objects.filter(year=year, version=version, results__isnull=False).distinct().first()
            )
        if campaign is None:
            raise CommandError(
                f"Aucune campagne {year}{f' v{version}' if version else ''} n'a de résultats enregistrés."
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(exporter(campaign))
        self.stdout.write(f"Rapport national {campaign.year} v{campaign.version} écrit dans {output}")
