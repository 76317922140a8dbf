"""`manage.py create_campaign --year N [--parameters parametres.json] [--param name=value …]
[--dataset ANNEE=N°|SHA-256 …] [--user LOGIN]`.

Creates campaign N in draft (version + 1 of a published campaign, which it will supersede), with the
national file of each year it needs: the one named by --dataset (its number, or the start of its
SHA-256), else the latest valid file of the year; the files chosen are printed. Without
--user the command acts as the system (`COMMAND_LINE` in calculations/services/transitions.py: it may
create, set parameters and launch, nothing else).

Every problem of the year, the --dataset choices, parametres.json and the --param values is printed at
once, each naming its source and parameter, and nothing is created.
"""

from pathlib import Path

from django.core.management.base import CommandError

from calculations.engine import ParameterError
from calculations.engine.parameters import OVERRIDE_SOURCE, read_parameters_json, split_assignments
from calculations.models import Dataset
from calculations.selectors.datasets import chosen_datasets, dataset_choice_label
from calculations.services.campaigns import campaign_creation_problems, create_campaign
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
        parser.add_argument(
            "--dataset",
            action="append",
            default=[],
            metavar="ANNEE=N°|SHA-256",
            help="fichier national d'une année : son numéro ou le début de son SHA-256 (répétable ; "
            "par défaut le plus récent fichier valide de l'année)",
        )
        parser.add_argument("--user", metavar="LOGIN", help="utilisateur qui agit (sinon : système, ligne de commande)")

    def handle(self, *args, year, parameters, param, dataset, user, **options):
        problems: list[str] = []
        datasets = {}
        for assignment in dataset:
            try:
                dataset_year, found = self.named_dataset(assignment)
            except ValueError as error:
                problems.append(str(error))
            else:
                datasets[dataset_year] = found
        layers = []
        if parameters and not parameters.is_file():
            problems.append(f"{parameters} : fichier introuvable")
        elif parameters:
            try:
                layers.append((parameters.name, read_parameters_json(parameters)))
            except ParameterError as error:
                problems += error.messages
        overrides, malformed = split_assignments(param)
        problems += [str(problem) for problem in malformed]
        layers.append((OVERRIDE_SOURCE, overrides))
        try:
            actor = command_line_actor(user)
            if problems:  # the service's own checks too, so that one run lists everything to fix
                raise CampaignError(
                    problems + campaign_creation_problems(year=year, parameter_layers=layers, datasets=datasets)
                )
            campaign = create_campaign(year=year, user=actor, parameter_layers=layers, datasets=datasets)
        except CampaignError as error:
            for line in error.messages:
                self.stderr.write(line)
            raise CommandError(f"campagne {year} non créée : {len(error.messages)} problème(s)") from None
        self.stdout.write(self.style.SUCCESS(f"{campaign} créée (id {campaign.pk})."))
        chosen = chosen_datasets(campaign=campaign)
        for chosen_year, row in chosen.items():
            self.stdout.write(f"  fichier national {chosen_year} : {dataset_choice_label(row.dataset)}")
        if not chosen:
            self.stdout.write("  aucun fichier national validé : le plus récent de chaque année sera pris au lancement")

    def named_dataset(self, assignment: str) -> tuple[int, Dataset]:
        """`2022=12` (number) or `2022=1a2b3c4d` (start of the SHA-256, at least 6 characters); ValueError
        saying why when it names no single dataset."""
        year_text, separator, key = assignment.partition("=")
        key = key.strip().lower()
        if not separator or not year_text.strip().isdigit() or not key:
            raise ValueError(f"--dataset {assignment!r} : attendu ANNEE=N° ou ANNEE=SHA-256, par exemple 2022=12")
        year = int(year_text)
        if key.isdigit():
            candidates = list(Dataset.objects.filter(pk=int(key)))
        elif len(key) >= 6:
            candidates = list(Dataset.objects.filter(sha256__startswith=key))
        else:
            raise ValueError(f"--dataset {assignment!r} : donnez au moins 6 caractères du SHA-256")
        if len(candidates) != 1:
            found = "aucun jeu de données" if not candidates else f"{len(candidates)} jeux de données"
            raise ValueError(f"--dataset {assignment!r} : {found} ne correspond à {key!r}")
        return year, candidates[0]
