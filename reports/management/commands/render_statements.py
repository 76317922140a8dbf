"""Render the statements of a campaign of a year into a directory: its latest version with results, or
the one given by --campaign-version (--version is Django's: the program's version)."""

from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from reports import selectors, services


class Command(ProjectCommand):
    help = (
        "Écrit un relevé PDF par groupement (ex. 2023_G001_v1.pdf) pour la dernière version de campagne de "
        "l'année, ou celle de --campaign-version."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument("--outdir", type=Path, required=True, help="répertoire de sortie (créé au besoin)")
        parser.add_argument(
            "--campaign-version",
            type=int,
            metavar="N",
            help="version de la campagne (par défaut : la dernière qui a des résultats)",
        )

    def handle(self, *args, year, outdir, campaign_version=None, **options):
        if campaign_version is None:
            campaign = selectors.latest_campaign_with_results(year)
            if campaign is None:
                raise CommandError(f"Aucune campagne {year} n'a de résultats enregistrés.")
        else:
            campaign = selectors.campaign_with_results(year, campaign_version)
            if campaign is None:
                raise CommandError(f"La campagne {year} v{campaign_version} n'existe pas ou n'a pas de résultats.")
        written = services.export_campaign_statements(campaign=campaign, outdir=outdir)
        self.stdout.write(
            f"{len(written)} relevé(s) de la campagne {campaign.year} v{campaign.version} ({campaign.get_status_display()}) écrits dans {outdir}"
        )
