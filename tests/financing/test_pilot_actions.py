"""Pilot projects (issue 15): every innovative-action claim names an action approved by the project's
convention (annex 7) for its year, a claim outside the list is refused with the list shown; each
coordination line is split between salaries and running costs (the 152 520 € stay), shown on the
project page and in the financing report."""

import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from common.errors import ActionRefused
from financing.models import LedgerLine
from financing.services.pilots import record_coordination_lines, set_coordination_split
from groupements.roles import READER
from tests.financing.test_pilots import approved_action, claim
from tests.typography import NNBSP

from .factories import PilotProjectFactory

NBSP = "\u00a0"
pytestmark = pytest.mark.django_db


def test_a_claim_names_an_approved_action_of_its_project_valid_that_year(project, manager):
    heart = approved_action(project, "A7-01", 2018, 2022)
    later = approved_action(project, "A7-02", 2021, 2022)
    other = approved_action(PilotProjectFactory(code="P02"), "A7-09")

    recorded = claim(project, manager, "1000", year=2022, action=heart)
    assert recorded.approved_action == heart

    expected_list = (
        "actions approuvées pour 2020 : A7-01 – Télésurveillance des patients insuffisants cardiaques "
        "(Convention P01, annexe 7, 2018–2022)"
    )
    for action, year, named in (
        (None, 2020, "Aucune action nommée"),
        (other, 2020, "L'action « A7-09 » n'est pas approuvée"),  # another project's action
        (later, 2020, "L'action « A7-02 » n'est pas approuvée"),  # approved from 2021 only
    ):
        with pytest.raises(ActionRefused) as refused:
            claim(project, manager, "10", year=year, action=action)
        assert refused.value.messages == [
            f"{named} pour le projet P01 en 2020 : une demande ne paie qu'une action de la convention du "
            f"projet ({expected_list})."
        ]
    assert LedgerLine.objects.filter(nature="actions_innovantes").count() == 1


def test_a_project_without_approved_actions_refuses_every_claim_and_says_so(project, manager):
    with pytest.raises(ActionRefused, match="aucune action innovante n'est approuvée pour le projet P01 en 2022"):
        claim(project, manager, "10", action=None)


def test_the_database_refuses_a_claim_without_an_approved_action(project):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerLine.objects.create(pilot_project=project, year=2022, nature="actions_innovantes", amount=Decimal("5"))


def test_coordination_lines_carry_a_split_that_sums_to_152_520(project, manager):
    [line, *_] = record_coordination_lines(project=project, user=manager)
    assert (line.amount, line.salaries, line.running_costs) == (
        Decimal("152520.00"),
        Decimal("152520.00"),
        Decimal("0.00"),
    )

    # 118 000 + 34 520 = 152 520
    split = set_coordination_split(line=line, salaries=Decimal("118000"), running_costs=Decimal("34520"), user=manager)
    assert (split.salaries, split.running_costs, split.amount) == (
        Decimal("118000"),
        Decimal("34520"),
        Decimal("152520.00"),
    )
    with pytest.raises(ActionRefused) as refused:
        set_coordination_split(line=line, salaries=Decimal("120000"), running_costs=Decimal("34520"), user=manager)
    assert refused.value.messages == [
        f"Salaires (120{NBSP}000,00{NBSP}€) et frais de fonctionnement (34{NBSP}520,00{NBSP}€) font "
        f"154{NBSP}520,00{NBSP}€ : la coordination est de 152{NBSP}520,00{NBSP}€ par an."
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerLine.objects.filter(pk=line.pk).update(salaries=Decimal("1"))


def test_the_project_page_shows_the_actions_the_split_and_the_claims_by_action(project, manager, client):
    lines = record_coordination_lines(project=project, user=manager)
    set_coordination_split(line=lines[-1], salaries=Decimal("118000"), running_costs=Decimal("34520"), user=manager)
    claim(project, manager, "1500.50", year=2022)
    client.force_login(manager)

    html = client.get(reverse("admin:financing_pilotproject_change", args=[project.pk])).content.decode()

    assert "Actions innovantes approuvées par la convention (annexe 7)" in html
    assert "Convention P01, annexe 7" in html and "A7-01" in html
    assert "dont salaires" in html and "dont frais de fonctionnement" in html
    assert f"118{NBSP}000,00{NBSP}€" in html and f"34{NBSP}520,00{NBSP}€" in html
    assert (
        f"A7-01 – Télésurveillance des patients insuffisants cardiaques (Convention P01, annexe 7, 2018–2022){NNBSP}: 1{NBSP}500,50{NBSP}€"
        in html
    )


def test_the_financing_report_shows_each_project_with_its_split(project, manager, client, make_user):
    lines = record_coordination_lines(project=project, user=manager)
    set_coordination_split(line=lines[-1], salaries=Decimal("118000"), running_costs=Decimal("34520"), user=manager)
    claim(project, manager, "2000", year=2022)
    client.force_login(make_user(role=READER))

    html = client.get(reverse("admin:financing_ledgerline_financing_report")).content.decode()

    assert "Projets pilotes (dispositif belge)" in html and "P01 – Projet pilote P01" in html
    # Five years of 152 520 €: 762 600 €, of which 4 × 152 520 + 118 000 = 728 080 € salaries, 34 520 € running.
    for amount in ("762\u00a0600,00", "728\u00a0080,00", "34\u00a0520,00", "2\u00a0000,00"):
        assert f"{amount}{NBSP}€" in html, amount
    if shutil.which("pdftotext"):
        pdf = client.get(reverse("admin:financing_ledgerline_financing_report_pdf")).content
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
        text = text.decode().replace(NBSP, " ").replace("\u202f", " ")
        assert "Projets pilotes (dispositif belge)" in text
        assert "728 080,00 €" in text and "dont frais de fonctionnement" in text
