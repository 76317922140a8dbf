import sys

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from calculations.bundle import BundleError
from calculations.services.transitions import SystemActor
from common.commands import ProjectCommand
from common.errors import ActionRefused
from financing.services.ledger import ADD_LEDGER
from financing.services.payments import import_payments

# Whoever runs the command on the server may record payments; with --user, that user's role decides.
COMMAND_LINE = SystemActor("ligne de commande", frozenset({ADD_LEDGER}))


class Command(ProjectCommand):
    help = (
        "Importe versements.csv (code_groupement, annee, nature, montant) au grand livre : tout ou rien. "
        "Un montant précédé de « - » est une récupération (ligne négative)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier versements.csv")
        parser.add_argument("--user", help="identifiant de l'utilisateur qui enregistre les versements")

    def handle(self, *args, file, user=None, **options):
        recorder = COMMAND_LINE
        if user:
            recorder = get_user_model().objects.filter(username=user).first()
            if recorder is None:
                raise CommandError(f"Utilisateur inconnu : {user}")
        try:
            summary = import_payments(path=file, user=recorder)
        except BundleError as error:
            for line in error.lines():
                sys.stderr.write(line + "\n")
            raise CommandError(f"{len(error.problems)} problème(s) : aucun versement n'a été importé.") from None
        except ActionRefused as refusal:
            raise CommandError(f"{user or recorder} : {' '.join(refusal.messages)}") from None
        except FileNotFoundError:
            raise CommandError(f"Fichier introuvable : {file}") from None
        for warning in summary.warnings:
            self.stderr.write(f"avertissement : {warning}")
        for line in summary.lines():
            self.stdout.write(line)
