"""`manage.py demo_setup --bundle DIR --year N`: the whole story of one year on a fresh database, for
`make demo` and for newcomers.

Loads the reference tables of a bundle, ingests every `beneficiaires_Y.csv` it holds, creates the
campaign of year N with the bundle's `parametres.json`, computes it (the statements are rendered when the
computation is stored), then has a validator validate and publish it so the groupement portal shows a
statement. Each step is skipped when already done, so the command can be run again.

It creates one user per role with a single demo password (`--password`, or `IPEP_DEMO_PASSWORD`, or a
random one) and prints the logins: this is a demonstration database, never run it in production.
"""

import os
import re
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction

from calculations.bundle.problems import BundleError
from calculations.engine import ParameterError
from calculations.engine.parameters import read_parameters_json
from calculations.models import Campaign, Dataset
from calculations.selectors.campaigns import latest_campaign
from calculations.services.campaigns import (
    create_campaign,
    launch_campaign,
    publish_campaign,
    validate_campaign,
    wait_for_computation,
)
from calculations.services.datasets import DatasetError, ingest_dataset
from calculations.services.reference import load_reference_bundle
from calculations.services.transitions import CampaignError
from common.commands import ProjectCommand
from common.formatting import format_money
from groupements import roles
from groupements.models import Groupement, PortalAccess
from reports.models import Statement
from reports.services import render_campaign_statements

COMPUTATION_TIMEOUT_SECONDS = 600
BENEFICIARIES_FILE = re.compile(r"beneficiaires_([0-9]{4})\.csv")
# login, role (None: superuser), description
DEMO_USERS = (
    ("admin", None, "administrateur (tout l'admin)"),
    ("donnees", roles.DATA_MANAGER, "gestionnaire de données (référentiels, fichiers nationaux)"),
    ("calcul", roles.CALCULATOR, "calculateur (crée et lance les campagnes)"),
    ("validation", roles.VALIDATOR, "validateur (valide à quatre yeux, publie)"),
    ("lecteur", roles.READER, "lecteur (consultation)"),
)


class Command(ProjectCommand):
    help = "Base de démonstration : charge un lot, calcule et publie sa campagne, crée un utilisateur par rôle."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bundle", type=Path, required=True, help="répertoire du lot (ex. ../shared/data/golden-2022)"
        )
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne à calculer")
        parser.add_argument(
            "--password",
            help="mot de passe commun des comptes de démonstration (défaut : IPEP_DEMO_PASSWORD ou aléatoire)",
        )
        parser.add_argument(
            "--no-publish", action="store_true", help="s'arrêter à « calculée » pour essayer la validation dans l'admin"
        )

    def handle(self, *args, bundle: Path, year: int, password, no_publish, **options):
        if not bundle.is_dir():
            raise CommandError(f"{bundle}: répertoire introuvable")
        password = password or os.environ.get("IPEP_DEMO_PASSWORD") or secrets.token_urlsafe(9)
        users = self.create_users(password)
        self.load_reference(bundle, users["admin"])
        self.ingest_beneficiaries(bundle, users["donnees"])
        campaign = self.compute_campaign(bundle, year, users)
        if not no_publish:
            campaign = self.publish(campaign, users["validation"])
        portal_login = self.create_portal_user(password)
        self.print_logins(password, portal_login, campaign)

    # --- steps ---------------------------------------------------------------------------------

    def create_users(self, password: str) -> dict:
        User = get_user_model()
        users = {}
        with transaction.atomic():
            for login, role, _ in DEMO_USERS:
                user, _ = User.objects.get_or_create(username=login)
                user.is_staff = True
                user.is_superuser = role is None
                user.set_password(password)
                user.save()
                if role:
                    user.groups.set([Group.objects.get(name=role)])
                users[login] = user
        return users

    def create_portal_user(self, password: str) -> str | None:
        groupement = Groupement.objects.order_by("code").first()
        if groupement is None:
            return None
        login = groupement.code.lower()
        user, _ = get_user_model().objects.get_or_create(username=login)
        user.is_staff = user.is_superuser = False
        # An address, so that the publication notice and the password reset can be tried (console e-mails).
        user.email = user.email or f"{login}@demo.ipep.invalid"
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=roles.GROUPEMENT_USER)])
        PortalAccess.objects.update_or_create(user=user, defaults={"groupement": groupement})
        return login

    def load_reference(self, bundle: Path, user) -> None:
        try:
            summary = load_reference_bundle(directory=bundle, user=user)
        except BundleError as error:
            raise CommandError(f"lot refusé :\n{error}") from None
        for line in summary.warnings + summary.lines():
            self.stdout.write(f"  {line}")
        self.stdout.write("Référentiels chargés." if summary.changed else "Référentiels déjà chargés.")

    def ingest_beneficiaries(self, bundle: Path, user) -> None:
        for path in sorted(bundle.glob("beneficiaires_*.csv")):
            if not BENEFICIARIES_FILE.fullmatch(path.name):
                self.stderr.write(f"{path.name} ignoré : le nom attendu est beneficiaires_AAAA.csv")
                continue
            data_year = int(BENEFICIARIES_FILE.fullmatch(path.name)[1])
            try:
                dataset = ingest_dataset(path=path, year=data_year, user=user)
            except DatasetError as error:
                raise CommandError(f"{path.name}: {error}") from None
            if dataset.status != Dataset.Status.VALID:
                raise CommandError(f"{path.name} refusé : voir le jeu de données {dataset.pk} dans l'admin")
            self.stdout.write(f"Bénéficiaires {data_year} : {dataset.row_count} lignes ({path.name})")

    def compute_campaign(self, bundle: Path, year: int, users: dict) -> Campaign:
        campaign = latest_campaign(year=year)
        try:
            if campaign is None:
                parameters_file = bundle / "parametres.json"
                parameters = dict(read_parameters_json(parameters_file)) if parameters_file.is_file() else {}
                campaign = create_campaign(year=year, user=users["calcul"], parameters=parameters)
            if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.FAILED):
                campaign = launch_campaign(campaign=campaign, user=users["calcul"])
        except (CampaignError, ParameterError) as error:
            raise CommandError("\n".join(error.messages)) from None
        campaign = self.wait_for_computation(campaign)
        if not Statement.objects.filter(campaign=campaign).exists():
            render_campaign_statements(campaign=campaign)
        self.stdout.write(
            f"{campaign} : {campaign.results.count()} groupements, montant final {format_money(campaign.final_amount)}, "
            f"{Statement.objects.filter(campaign=campaign).count()} relevés PDF"
        )
        return campaign

    def wait_for_computation(self, campaign: Campaign) -> Campaign:
        """Eager Celery has finished on return; a real worker is polled."""
        campaign = wait_for_computation(campaign=campaign, timeout=COMPUTATION_TIMEOUT_SECONDS)
        if campaign.status == Campaign.Status.COMPUTING:
            raise CommandError(f"{campaign} : toujours en calcul ; un worker Celery tourne-t-il (make worker) ?")
        if campaign.status == Campaign.Status.FAILED:
            raise CommandError(f"{campaign} : le calcul a échoué : {campaign.error}")
        return campaign

    def publish(self, campaign: Campaign, validator) -> Campaign:
        try:
            if campaign.status == Campaign.Status.COMPUTED:
                campaign = validate_campaign(campaign=campaign, user=validator, reason="démonstration")
            if campaign.status == Campaign.Status.VALIDATED:
                campaign = publish_campaign(campaign=campaign, user=validator, reason="démonstration")
        except CampaignError as error:
            raise CommandError("\n".join(error.messages)) from None
        self.stdout.write(f"{campaign} : validée et publiée par « {validator} »")
        return campaign

    def print_logins(self, password: str, portal_login: str | None, campaign: Campaign) -> None:
        self.stdout.write("")
        site = settings.IPEP_SITE_URL.rstrip("/")  # where the site is served (IPEP_SITE_URL), not a fixed port
        self.stdout.write(self.style.SUCCESS(f"Démonstration prête : {site}/admin/"))
        self.stdout.write(f"Mot de passe de tous les comptes : {password}")
        for login, _, description in DEMO_USERS:
            self.stdout.write(f"  {login:<12} {description}")
        if portal_login:
            self.stdout.write(
                f"  {portal_login:<12} utilisateur du groupement {portal_login.upper()} (portail : {site}/)"
            )
        self.stdout.write(f"Campagne {campaign.year} v{campaign.version} : {campaign.get_status_display()}")
