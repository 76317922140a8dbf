"""`manage.py transition_campaign --year N --to STATUT --user LOGIN [--reason TEXTE] [--campaign-version V]`.

Statuts demandables : computing (lancer), draft (rejeter, motif obligatoire), validated, published, paid.
Sans --user, seul le lancement est permis (voir `COMMAND_LINE`) : la validation exige une personne
distincte de celle qui a lancé le calcul.
"""

from django.core.management.base import CommandError

from calculations.selectors.campaigns import campaigns_of_year
from calculations.services.campaigns import SERVICES_BY_TARGET, transition_campaign
from calculations.services.transitions import command_line_actor
from common.commands import ProjectCommand
from common.errors import ActionRefused


class Command(ProjectCommand):
    help = "Fait passer la campagne N au statut demandé (contrôles de rôle, double contrôle, motif)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument("--to", required=True, choices=[str(s) for s in SERVICES_BY_TARGET], help="statut cible")
        parser.add_argument("--user", metavar="LOGIN", help="utilisateur qui agit (obligatoire sauf pour lancer)")
        parser.add_argument("--reason", default="", help="motif (obligatoire pour un rejet)")
        parser.add_argument(
            "--campaign-version",
            type=int,
            dest="campaign_version",
            help="version de la campagne (défaut : la plus récente)",
        )

    def handle(self, *args, year, to, user, reason, campaign_version, **options):
        campaigns = campaigns_of_year(year=year)
        campaign = campaigns.filter(version=campaign_version).first() if campaign_version else campaigns.first()
        if campaign is None:
            raise CommandError(f"aucune campagne {year}" + (f" v{campaign_version}" if campaign_version else ""))
        try:
            campaign = transition_campaign(campaign=campaign, to=to, user=command_line_actor(user), reason=reason)
        except ActionRefused as error:  # the campaign's own refusals, or those of an app reacting (the ledger)
            for line in error.messages:
                self.stderr.write(line)
            raise CommandError("transition refusée") from None
        campaign.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(f"{campaign}."))
