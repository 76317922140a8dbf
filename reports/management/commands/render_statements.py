"""Render the statements of the latest campaign version of a year into a directory."""

from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from reports import selectors, services


class Command(ProjectCommand):
    help = "Écrit un relevé PDF par groupement (ex. 2023_G001_v1.pdf) pour la dernière version de campagne de l'année."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument("--outdir", type=Path, required=True, help="répertoire de sortie (créé au besoin)")

    def handle(self, *args, year, outdir, **options):
        campaign = selectors.latest_campaign_with_results(year)
        if campaign is None:
            raise CommandError(f"Aucune campagne {year} n'a de résultats enregistrés.")
        written = services.export_campaign_statements(campaign=campaign, outdir=outdir)
        self.stdout.write(
            f"{len(written)} relevé(s) de la campagne {campaign.year} v{campaign.version} ({campaign.get_status_display()}) écrits dans {outdir}"
        )
