"""`manage.py run_campaign --year N [--output FICHIER] [--user LOGIN] [--timeout SECONDES]`.

Launches the computation of campaign N (draft or failed) and waits for it; `--output` writes the
STORED results as the JSON of METHODOLOGY.md section 5 (read from the database, not recomputed). A
campaign already computed (or in force) is not relaunched: its results are written. Without --user the
command acts as the system (`COMMAND_LINE`), which may launch.
"""

import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from calculations.models import Campaign
from calculations.selectors.campaigns import campaign_results_json, latest_campaign, open_campaign
from calculations.services.campaigns import fail_stale_campaigns, launch_campaign, wait_for_computation
from calculations.services.transitions import CampaignError, command_line_actor
from common.commands import ProjectCommand
from common.formatting import format_integer, format_money


class Command(ProjectCommand):
    help = "Lance le calcul de la campagne N, attend la fin et écrit les résultats enregistrés (JSON section 5)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument(
            "--output", metavar="FICHIER", help="fichier JSON des résultats enregistrés ('-' : sortie standard)"
        )
        parser.add_argument(
            "--user", metavar="LOGIN", help="utilisateur qui lance (sinon : système, ligne de commande)"
        )
        parser.add_argument(
            "--timeout", type=float, default=None, help="attente maximale en secondes (défaut : illimitée)"
        )

    def handle(self, *args, year, output, user, timeout, **options):
        if output and output != "-" and not Path(output).parent.is_dir():  # said now, not after the computation
            raise CommandError(f"{output} : le répertoire {Path(output).parent} n'existe pas")
        fail_stale_campaigns()
        campaign = open_campaign(year=year) or latest_campaign(year=year)
        if campaign is None:
            raise CommandError(f"aucune campagne {year} : créez-la avec create_campaign --year {year}")
        try:
            if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.FAILED):
                campaign = launch_campaign(campaign=campaign, user=command_line_actor(user))
                self.stderr.write(f"{campaign} : calcul lancé.")
        except CampaignError as error:
            for line in error.messages:
                self.stderr.write(line)
            raise CommandError(f"campagne {year} v{campaign.version} non lancée") from None
        campaign = self.wait(campaign, timeout)
        if campaign.status == Campaign.Status.FAILED:
            self.stderr.write(campaign.error)
            raise CommandError(f"{campaign} : le calcul a échoué")
        if not campaign.has_results:
            raise CommandError(f"{campaign} : pas de résultats à écrire")
        self.stderr.write(
            f"{campaign} : {campaign.results.count()} groupements, {format_integer(campaign.n_patients)} patients, montant final {format_money(campaign.final_amount)}"
        )
        if output:
            text = json.dumps(campaign_results_json(campaign=campaign), ensure_ascii=False, indent=1) + "\n"
            if output == "-":
                sys.stdout.write(text)
            else:
                try:
                    Path(output).write_text(text, encoding="utf-8")
                except OSError as error:
                    raise CommandError(
                        f"{output} : écriture des résultats impossible ({error.strerror or error})"
                    ) from None
                self.stderr.write(f"résultats écrits dans {output}")

    def wait(self, campaign: Campaign, timeout: float | None) -> Campaign:
        """Wait until the campaign leaves `computing`, printing each new step."""
        campaign = wait_for_computation(
            campaign=campaign,
            timeout=timeout,
            on_step=lambda c: self.stderr.write(f"  {c.progress * 100:5.1f} % {c.progress_step}"),
        )
        if campaign.status == Campaign.Status.COMPUTING:
            raise CommandError(f"{campaign} : toujours en calcul après {timeout:g} s (le calcul continue)")
        return campaign
