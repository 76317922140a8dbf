"""`manage.py create_campaign --year N [--parameters parametres.json] [--param name=value …] [--user LOGIN]`.

Creates campaign N in draft (version + 1 of a published campaign, which it will supersede). Without
--user the command acts as the system (`COMMAND_LINE` in calculations/services/transitions.py: it may
create, set parameters and launch, nothing else).
"""

from pathlib import Path

from django.core.management.base import CommandError

from calculations.engine import ParameterError
from calculations.engine.parameters import parse_assignments, read_parameters_json
from calculations.services.campaigns import create_campaign
from calculations.services.transitions import CampaignError, command_line_actor
from common.commands import ProjectCommand


class Command(ProjectCommand):
    help = "Crée la campagne de l'année N en brouillon, avec ses paramètres (section 6)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument(
            "--parameters", type=Path, metavar="FICHIER", help="parametres.json d'un lot (appliqué avant --param)"
        )
        parser.add_argument(
            "--param", action="append", default=[], metavar="NOM=VALEUR", help="paramètre de la section 6 (répétable)"
        )
        parser.add_argument("--user", metavar="LOGIN", help="utilisateur qui agit (sinon : système, ligne de commande)")

    def handle(self, *args, year, parameters, param, user, **options):
        if parameters and not parameters.is_file():
            raise CommandError(f"{parameters}: fichier introuvable")
        try:
            values = dict(read_parameters_json(parameters)) if parameters else {}
            values.update(parse_assignments(param))
            campaign = create_campaign(year=year, user=command_line_actor(user), parameters=values)
        except (CampaignError, ParameterError) as error:
            for line in error.messages:
                self.stderr.write(line)
            raise CommandError(f"campagne {year} non créée") from None
        self.stdout.write(self.style.SUCCESS(f"{campaign} créée (id {campaign.pk})."))
