"""The audit trail (django-pghistory triggers, PostgreSQL only): every change of reference data and of
a campaign is recorded with who made it, and shown on the object's « Historique » admin page."""

import html

import pytest
from django.conf import settings
from django.urls import reverse
from pghistory.models import Events

from calculations.models import Campaign
from calculations.services import campaigns as services
from calculations.services.reference import load_reference_bundle
from groupements.models import PatientExperience
from groupements.roles import CALCULATOR, DATA_MANAGER, READER, VALIDATOR
from tests.calculations.campaign_factories import (  # noqa: F401
    golden_parameters,
    launch_and_compute,
    store_golden_datasets,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not settings.USES_POSTGRES, reason="pghistory records nothing on SQLite: set DATABASE_URL to PostgreSQL"
    ),
]


def history_page(client, admin_name, pk):
    return html.unescape(client.get(reverse(f"admin:{admin_name}_history", args=[pk])).content.decode())


@pytest.mark.django_db
def test_a_reference_change_in_the_admin_is_recorded_with_its_author_and_shown(client, make_user, loaded_reference):
    manager = make_user(role=DATA_MANAGER, username="gestionnaire")
    experience = PatientExperience.objects.get(year=2022, groupement__code="G001")
    client.force_login(manager)

    response = client.post(
        reverse("admin:groupements_patientexperience_change", args=[experience.pk]),
        {"year": "2022", "groupement": str(experience.groupement_id), "points": "12.5"},
    )

    assert response.status_code == 302
    [update] = Events.objects.tracks(experience).filter(pgh_label="update")
    assert update.pgh_diff["points"] == [16.4, 12.5]
    assert update.pgh_context["user"] == manager.pk
    assert update.pgh_context["url"].endswith(f"/patientexperience/{experience.pk}/change/")
    client.force_login(make_user(role=READER))
    page = history_page(client, "groupements_patientexperience", experience.pk)
    assert "modification" in page and "gestionnaire" in page and "16,4 → 12,5" in page


@pytest.mark.django_db
def test_reloading_the_bundle_records_the_rows_it_changes_and_deletes(loaded_reference, golden_dir, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(golden_dir, bundle, ignore=shutil.ignore_patterns("beneficiaires_*"))
    lines = (bundle / "experience_patient_2022.csv").read_text(encoding="utf-8").splitlines()
    (bundle / "experience_patient_2022.csv").write_text(
        "\n".join(line for line in lines if not line.startswith("G002;")) + "\n", encoding="utf-8"
    )
    g002 = PatientExperience.objects.get(year=2022, groupement__code="G002")

    load_reference_bundle(directory=bundle)

    labels = list(Events.objects.tracks(g002).order_by("pgh_created_at").values_list("pgh_label", flat=True))
    assert labels == ["insert", "delete"]


@pytest.mark.django_db
def test_every_campaign_change_is_recorded_with_its_actor_not_each_progress_step(
    client, make_user, loaded_reference, media_root, django_capture_on_commit_callbacks
):
    store_golden_datasets()
    calculator, validator = (
        make_user(role=CALCULATOR, username="calculateur"),
        make_user(role=VALIDATOR, username="validateur"),
    )
    campaign = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    campaign = launch_and_compute(campaign, calculator, django_capture_on_commit_callbacks)
    services.validate_campaign(campaign=campaign, user=validator)

    events = list(Events.objects.tracks(campaign).order_by("pgh_created_at", "pgh_id"))

    # Insert, launch, computed, validated — the progress and heartbeat writes in between are not events.
    assert [(e.pgh_label, e.pgh_data["status"]) for e in events] == [
        ("insert", "draft"),
        ("update", "computing"),
        ("update", "computed"),
        ("update", "validated"),
    ]
    assert [e.pgh_context.get("user") or e.pgh_context.get("actor") for e in events] == [
        calculator.pk,
        calculator.pk,
        "tâche de calcul",
        validator.pk,
    ]
    client.force_login(make_user(role=READER))
    page = history_page(client, "calculations_campaign", campaign.pk)
    assert page.count('class="audit-event"') == 4
    assert "calculateur" in page and "validateur" in page and "système (tâche de calcul)" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.VALIDATED
