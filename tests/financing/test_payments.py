"""`import_payments` (versements.csv): every rule refused with `file:line: column: reason`, all or
nothing, idempotent."""

import shutil
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from calculations.bundle import BundleError
from calculations.models import Campaign
from common.errors import PermissionRefused
from financing.models import LedgerLine
from financing.services.payments import import_payments
from groupements.models import Groupement
from groupements.roles import DATA_MANAGER, READER
from tests.factories import CampaignFactory

from .factories import make_fiss_groupements

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "data" / "versements.csv"
HEADER = "code_groupement;annee;nature;montant\n"


@pytest.fixture
def groupements():
    return make_fiss_groupements()


@pytest.fixture
def manager(make_user):
    return make_user(role=DATA_MANAGER, username="gestion")


def write(tmp_path, *lines, header=HEADER):
    path = tmp_path / "versements.csv"
    path.write_text(header + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def problems_of(path, user):
    with pytest.raises(BundleError) as caught:
        import_payments(path=path, user=user)
    return [str(p) for p in caught.value.problems]


def test_fixture_is_imported_as_paid_lines_and_reimport_changes_nothing(groupements, manager):
    summary = import_payments(path=FIXTURE, user=manager)

    assert summary.lines() == ["versements : 74 créé(s), 0 modifié(s), 0 inchangé(s)"]
    # 18 + 18 + 18 lines of wave 1, 10 + 10 of wave 2.
    assert LedgerLine.objects.filter(status="paid", recorded_by=manager, campaign=None).count() == 74
    assert import_payments(path=FIXTURE, user=manager).lines() == [
        "versements : 0 créé(s), 0 modifié(s), 74 inchangé(s)"
    ]


def test_a_changed_amount_updates_the_existing_line(groupements, manager, tmp_path):
    import_payments(path=write(tmp_path, "G001;2019;amorcage;77500"), user=manager)

    summary = import_payments(
        path=write(tmp_path, "G001;2019;amorcage;77500,50", "G002;2019;amorcage;10"), user=manager
    )

    assert summary.lines() == ["versements : 1 créé(s), 1 modifié(s), 0 inchangé(s)"]
    assert LedgerLine.objects.get(groupement__code="G001").amount == Decimal("77500.50")


def test_comma_delimited_file_with_decimal_point(groupements, manager, tmp_path):
    path = write(tmp_path, "G001,2019,amorcage,100.25", header="Code_Groupement , ANNEE,nature,montant\n")
    import_payments(path=path, user=manager)
    assert LedgerLine.objects.get().amount == Decimal("100.25")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("G999;2020;amorcage;10", "versements.csv:3: code_groupement: groupement inconnu «\u202fG999\u202f»"),
        (
            "G002;2020;bonus;10",
            "versements.csv:3: nature: nature inconnue «\u202fbonus\u202f» (attendu «\u202famorcage\u202f» ou «\u202finteressement\u202f»)",
        ),
        (
            "G002;2020;coordination;10",
            "versements.csv:3: nature: la nature «\u202fcoordination\u202f» concerne les projets pilotes\u202f: à enregistrer sur le projet pilote, pas dans versements.csv",
        ),
        (
            "G002;2020;amorcage;dix",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202fdix\u202f»",
        ),
        (
            "G002;2020;amorcage;1 000",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f1 000\u202f»",
        ),
        ("G002;2020;amorcage;10,555", "versements.csv:3: montant: au plus 2 décimales, reçu «\u202f10,555\u202f»"),
        (
            "G002;deux mille;amorcage;10",
            "versements.csv:3: annee: ce n'est pas un nombre entier\u202f: «\u202fdeux mille\u202f»",
        ),
        ("G002;2020;amorcage;", "versements.csv:3: montant: valeur obligatoire"),
        (
            "G001;2019;amorcage;20",
            "versements.csv:3: -: une ligne pour le groupement G001, l'année 2019 et la nature amorcage figure déjà ligne 2",
        ),
        ("G001;2019;amorcage;10", "versements.csv:3: -: ligne en double (déjà ligne 2)"),
        # Only a leading `-` is allowed, for a recovery: no `+`, no second sign, no exponent, no space.
        (
            "G002;2020;amorcage;+10",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f+10\u202f»",
        ),
        (
            "G002;2020;amorcage;--10",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f--10\u202f»",
        ),
        (
            "G002;2020;amorcage;-1e3",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f-1e3\u202f»",
        ),
        (
            "G002;2020;amorcage;- 10",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f- 10\u202f»",
        ),
        (
            "G002;2020;amorcage;-",
            "versements.csv:3: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f-\u202f»",
        ),
        ("G002;2020;amorcage;-10,555", "versements.csv:3: montant: au plus 2 décimales, reçu «\u202f-10,555\u202f»"),
    ],
)
def test_each_rule_is_refused_with_its_line_and_nothing_is_written(groupements, manager, tmp_path, line, expected):
    path = write(tmp_path, "G001;2019;amorcage;10", line)

    assert problems_of(path, manager) == [expected]
    assert not LedgerLine.objects.exists()


def test_every_problem_is_reported_at_once(groupements, manager, tmp_path):
    path = write(
        tmp_path, "G001;2019;amorcage;10", "G999;2019;amorcage;10", "G002;2019;bonus;+1", "G003;2019;amorcage;5"
    )

    assert problems_of(path, manager) == [
        "versements.csv:3: code_groupement: groupement inconnu «\u202fG999\u202f»",
        "versements.csv:4: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202f+1\u202f»",
        "versements.csv:4: nature: nature inconnue «\u202fbonus\u202f» (attendu «\u202famorcage\u202f» ou «\u202finteressement\u202f»)",
    ]


# --- recoveries: a `montant` written with a leading `-` ------------------------------------------------


def test_a_recovery_is_imported_as_a_negative_paid_line_and_reimport_changes_nothing(groupements, manager, tmp_path):
    path = write(tmp_path, "G001;2019;amorcage;77500", "G002;2021;interessement;-1500,50", "G003;2021;amorcage;-0,5")

    assert import_payments(path=path, user=manager).lines() == ["versements : 3 créé(s), 0 modifié(s), 0 inchangé(s)"]

    lines = LedgerLine.objects.order_by("groupement__code")
    assert [(ln.groupement.code, ln.year, ln.nature, ln.amount, ln.recovery, ln.status) for ln in lines] == [
        ("G001", 2019, "amorcage", Decimal("77500.00"), False, "paid"),
        ("G002", 2021, "interessement", Decimal("-1500.50"), True, "paid"),
        ("G003", 2021, "amorcage", Decimal("-0.50"), True, "paid"),
    ]
    assert all(ln.paid_at and ln.recorded_by == manager for ln in lines)
    assert import_payments(path=path, user=manager).lines() == ["versements : 0 créé(s), 0 modifié(s), 3 inchangé(s)"]


def test_a_recovery_beside_the_payment_of_its_key_is_a_second_line(groupements, manager, tmp_path):
    """`annee` is the year the money moved: a recovery of an earlier overpayment shares it with that
    year's payment; they are two movements, each updated by its own line of a later file."""
    import_payments(
        path=write(tmp_path, "G001;2021;interessement;150000", "G001;2021;interessement;-2000"), user=manager
    )

    summary = import_payments(
        path=write(tmp_path, "G001;2021;interessement;-2500", "G001;2021;interessement;150000"), user=manager
    )

    assert summary.lines() == ["versements : 0 créé(s), 1 modifié(s), 1 inchangé(s)"]
    assert sorted(LedgerLine.objects.values_list("amount", "recovery")) == [
        (Decimal("-2500.00"), True),
        (Decimal("150000.00"), False),
    ]


def test_two_recoveries_of_one_key_are_a_duplicate(groupements, manager, tmp_path):
    path = write(tmp_path, "G001;2021;interessement;100", "G001;2021;interessement;-10", "G001;2021;interessement;-20")

    assert problems_of(path, manager) == [
        "versements.csv:4: -: une récupération (montant négatif) pour le groupement G001, l'année 2021 et la nature "
        "interessement figure déjà ligne 3"
    ]
    assert not LedgerLine.objects.exists()


def test_minus_zero_is_zero_not_a_recovery(groupements, manager, tmp_path):
    import_payments(path=write(tmp_path, "G001;2019;amorcage;-0,00"), user=manager)

    line = LedgerLine.objects.get()
    assert (line.amount, line.recovery) == (Decimal("0.00"), False)
    assert str(line.amount) == "0.00"


def test_an_intéressement_recovery_is_not_refused_for_a_year_a_campaign_paid(groupements, manager, tmp_path):
    """The campaign's line is the payment of that year; money taken back that year is another movement."""
    campaign = CampaignFactory(year=2021, status=Campaign.Status.PAID)
    LedgerLine.objects.create(
        groupement=Groupement.objects.get(code="G005"), year=2022, nature="interessement", amount=5, campaign=campaign
    )

    import_payments(path=write(tmp_path, "G005;2022;interessement;-3"), user=manager)

    assert sorted(LedgerLine.objects.values_list("amount", "campaign")) == [
        (Decimal("-3.00"), None),
        (Decimal("5.00"), campaign.pk),
    ]


def test_the_admin_list_shows_a_recovery_in_french(groupements, manager, tmp_path, client):
    import_payments(path=write(tmp_path, "G001;2021;amorcage;-1000"), user=manager)
    client.force_login(manager)

    response = client.get(reverse("admin:financing_ledgerline_changelist"))

    assert "\u22121\u00a0000,00\u00a0€" in response.content.decode()


def test_missing_column_and_empty_file(groupements, manager, tmp_path):
    assert problems_of(write(tmp_path, "G001;2019;10", header="code_groupement;annee;montant\n"), manager) == [
        "versements.csv:1: nature: colonne obligatoire absente de l'en-tête"
    ]
    assert problems_of(write(tmp_path, header=""), manager) == [
        "versements.csv:1: -: fichier vide\u202f: une ligne d'en-tête est obligatoire"
    ]


def test_a_refused_file_leaves_existing_lines_unchanged(groupements, manager, tmp_path):
    import_payments(path=write(tmp_path, "G001;2019;amorcage;10"), user=manager)

    problems_of(write(tmp_path, "G001;2019;amorcage;99", "G999;2019;amorcage;1"), manager)

    assert [(line.groupement.code, line.amount) for line in LedgerLine.objects.all()] == [("G001", Decimal("10.00"))]


def test_intéressement_already_paid_by_a_campaign_is_refused(groupements, manager, tmp_path):
    campaign = CampaignFactory(year=2021, status=Campaign.Status.PAID)
    LedgerLine.objects.create(
        groupement=Groupement.objects.get(code="G005"), year=2022, nature="interessement", amount=5, campaign=campaign
    )

    assert problems_of(write(tmp_path, "G005;2022;interessement;5"), manager) == [
        "versements.csv:2: -: l'intéressement de G005 versé en 2022 est déjà enregistré par la campagne 2021 v1"
    ]


def test_import_needs_the_add_permission(groupements, make_user):
    with pytest.raises(PermissionRefused, match="Droit insuffisant pour importer des versements au grand livre."):
        import_payments(path=FIXTURE, user=make_user(role=READER))


def test_command_prints_problems_to_stderr_and_fails(groupements, manager, tmp_path, capsys):
    path = write(tmp_path, "G001;2019;amorcage;abc")

    with pytest.raises(CommandError, match="1 problème"):
        call_command("import_payments", str(path), "--user", "gestion")

    assert (
        capsys.readouterr().err
        == "versements.csv:2: montant: ce n'est pas un nombre décimal (séparateur décimal «\u202f.\u202f» ou «\u202f,\u202f»)\u202f: «\u202fabc\u202f»\n"
    )
    assert not LedgerLine.objects.exists()


def test_command_reports_every_problem_in_french_and_imports_nothing(groupements, manager, tmp_path, capsys):
    path = write(tmp_path, "G001;2019;amorcage;10", "G001;2019;amorcage;10", "G002;2019;prime;10")

    with pytest.raises(CommandError) as refused:
        call_command("import_payments", str(path), "--user", "gestion")

    assert str(refused.value) == "2 problème(s) : aucun versement n'a été importé."
    assert capsys.readouterr().err.splitlines() == [
        "versements.csv:3: -: ligne en double (déjà ligne 2)",
        "versements.csv:4: nature: nature inconnue «\u202fprime\u202f» (attendu «\u202famorcage\u202f» ou «\u202finteressement\u202f»)",
    ]
    assert not LedgerLine.objects.exists()


def test_problems_past_the_first_hundred_are_counted_per_rule_in_french(groupements, manager, tmp_path):
    path = write(tmp_path, *(f"X{n:03};2019;amorcage;10" for n in range(101)), "G001;2019;prime;10")

    with pytest.raises(BundleError) as refused:
        import_payments(path=path, user=manager)

    assert refused.value.lines()[-1] == "… and 2 more (groupement inconnu\u202f: 1, nature inconnue\u202f: 1)"


def test_command_imports_the_file(groupements, tmp_path):
    copy = tmp_path / "versements.csv"
    shutil.copy(FIXTURE, copy)
    out = StringIO()

    call_command("import_payments", str(copy), stdout=out)

    assert out.getvalue() == "versements : 74 créé(s), 0 modifié(s), 0 inchangé(s)\n"
    assert LedgerLine.objects.filter(recorded_by=None).count() == 74


def test_command_with_a_user_without_the_role_is_refused(groupements, make_user):
    make_user(role=READER, username="lecteur")
    with pytest.raises(CommandError, match="lecteur : Droit insuffisant pour importer des versements au grand livre."):
        call_command("import_payments", str(FIXTURE), "--user", "lecteur")
