"""Numbers in the admin: every decimal and float field of every admin form accepts the French comma;
lists and read-only pages show money to the cent with `€`, ratios to 4 places, reference decimals
without their padding zeros."""

import html
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from calculations.models import Campaign
from common.admin_numbers import format_kind, parse_french_number, plain_decimal_text
from financing.models import SeedCredit
from groupements.models import Groupement, PatientExperience, YearlyDecile
from groupements.roles import READER
from tests.factories import GroupementResultFactory

NBSP = "\u00a0"


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("typed", "read"),
    [("60000,50", "60000.50"), ("60 000,50", "60000.50"), (f"60{NBSP}000,5", "60000.5"), ("60000.50", "60000.50")],
)
def test_french_input_is_read(typed, read):
    assert parse_french_number(typed) == read


def test_french_display():
    assert format_kind(Decimal("150000"), "money") == f"150{NBSP}000,00{NBSP}€"
    assert format_kind(-250.23105414891438, "money") == f"\u2212250,23{NBSP}€"
    assert format_kind(0.512345, "ratio") == "0,5123"
    assert format_kind(Decimal("14.100000"), "decimal") == "14,1"
    assert format_kind(Decimal("20.910000"), "decimal") == "20,91"
    assert format_kind(Decimal("1250.500000"), "decimal") == f"1{NBSP}250,5"
    assert plain_decimal_text(Decimal("16.4000")) == "16,4" and plain_decimal_text(Decimal("50.00")) == "50"


@pytest.mark.django_db
def test_every_decimal_and_float_field_of_every_admin_form_accepts_the_french_comma(make_user):
    request = RequestFactory().get("/")
    request.user = make_user(is_superuser=True, is_staff=True)
    checked = []
    admin.autodiscover()  # the admin's modules are discovered by the URLs (ipep_site.apps.LazyAdminConfig)
    for model, model_admin in admin.site._registry.items():
        form = model_admin.get_form(request, None)
        for name, field in form.base_fields.items():
            try:
                db_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(db_field, models.DecimalField | models.FloatField):
                assert field.to_python("60 000,50") == type(field.to_python("1"))("60000.50"), (model, name)
                assert 'type="number"' not in str(field.widget.render(name, Decimal("1.5"))), (model, name)
                checked.append(f"{model._meta.model_name}.{name}")
    assert {"yearlydecile.d2", "indicatorresult.value_n", "patientexperience.points", "seedcredit.amount"} <= set(
        checked
    ), checked


@pytest.mark.django_db
def test_a_seed_credit_typed_with_a_comma_is_recorded_and_listed_in_french(client, make_user, loaded_reference):
    client.force_login(make_user(is_superuser=True, is_staff=True))
    groupement = Groupement.objects.get(code="G001")
    response = client.post(
        reverse("admin:financing_seedcredit_add"),
        {"groupement": groupement.pk, "year": "2022", "amount": "150 000,50", "status": "planned", "label": "x"},
    )
    assert response.status_code == 302, page(response)[:3000]
    assert SeedCredit.objects.get().amount == Decimal("150000.50")
    listing = page(client.get(reverse("admin:financing_seedcredit_changelist")))
    assert f"150{NBSP}000,50{NBSP}€" in listing


@pytest.mark.django_db
def test_reference_decimals_show_without_padding_in_lists_forms_and_read_only_pages(
    client, make_user, loaded_reference
):
    decile = YearlyDecile.objects.get(year=2022, indicator__code="VACC_GRIPPE")
    experience = PatientExperience.objects.filter(year=2022).first()
    client.force_login(make_user(is_superuser=True, is_staff=True))
    listing = page(client.get(reverse("admin:groupements_yearlydecile_changelist")))
    assert "48,3" in listing and "48,300000" not in listing
    form = page(client.get(reverse("admin:groupements_patientexperience_change", args=[experience.pk])))
    assert f'value="{plain_decimal_text(experience.points)}"' in form and "." not in plain_decimal_text(
        experience.points
    )

    client.force_login(make_user(role=READER))  # no change permission: a read-only page
    shown = page(client.get(reverse("admin:groupements_yearlydecile_change", args=[decile.pk])))
    assert "48,3" in shown and "48,300000" not in shown


@pytest.mark.django_db
def test_results_by_groupement_show_money_to_the_cent_and_ratios_to_four_places(client, make_user):
    result = GroupementResultFactory(
        efficiency_amount=-250.23105414891438,
        quality_ratio=0.512345678,
        amount_per_patient=12.3456789,
        final_amount=Decimal("1395000.00"),
        campaign__status=Campaign.Status.COMPUTED,
        quality_details=[
            {
                "code": "VACC_GRIPPE",
                "family": "socle",
                "direction": "hausse",
                "value_n": "48.300000",
                "value_n_1": None,
                "d2": "48.3",
                "d3": "51.4",
                "d7": "63.7",
                "d8": "66.8",
                "points": 5.0,
                "max_points": 10.0,
            }
        ],
    )
    client.force_login(make_user(role=READER))
    listing = page(client.get(reverse("admin:calculations_groupementresult_changelist")))
    assert f"1{NBSP}395{NBSP}000,00{NBSP}€" in listing
    shown = page(client.get(reverse("admin:calculations_groupementresult_change", args=[result.pk])))
    assert f"\u2212250,23{NBSP}€" in shown and "0,5123" in shown and f"12,35{NBSP}€" in shown
    assert "250,23105" not in shown and "0,512345" not in shown
    assert "<td>48,3</td><td>–</td><td>48,3</td><td>51,4</td><td>63,7</td><td>66,8</td>" in shown  # quality detail
