"""The transition table: every forbidden transition and every wrong role is refused (nothing changes,
nothing is recorded); four eyes; mandatory reasons; versions that supersede; after-commit hooks."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from calculations.models import Campaign, CampaignTransition
from calculations.services import campaigns as services
from calculations.services.transitions import (
    COMMAND_LINE,
    TRANSITIONS_BY_NAME,
    USER_TRANSITIONS,
    CampaignError,
    CampaignPermissionDenied,
    TransitionNotAllowed,
    allowed_transitions,
)
from groupements.roles import CALCULATOR, DATA_MANAGER, GROUPEMENT_USER, READER, VALIDATOR
from tests.calculations.campaign_factories import campaign_in_status

Status = Campaign.Status
SERVICE_OF = {
    "launch": lambda campaign, user, reason: services.launch_campaign(campaign=campaign, user=user),
    "reject": lambda campaign, user, reason: services.reject_campaign(campaign=campaign, user=user, reason=reason),
    "validate": lambda campaign, user, reason: services.validate_campaign(campaign=campaign, user=user, reason=reason),
    "publish": lambda campaign, user, reason: services.publish_campaign(campaign=campaign, user=user, reason=reason),
    "pay": lambda campaign, user, reason: services.pay_campaign(campaign=campaign, user=user, reason=reason),
}
# The only role each user transition is granted to (groupements/roles.py).
ROLE_OF = {"launch": CALCULATOR, "reject": VALIDATOR, "validate": VALIDATOR, "publish": VALIDATOR, "pay": VALIDATOR}
ALL_ROLES = (DATA_MANAGER, CALCULATOR, VALIDATOR, READER, GROUPEMENT_USER)


def in_status(status):
    extra = {"heartbeat_at": timezone.now()} if status == Status.COMPUTING else {}
    return campaign_in_status(status, **extra)


FORBIDDEN = [
    (status, name)
    for status in Status.values
    for name in USER_TRANSITIONS
    if status not in TRANSITIONS_BY_NAME[name].sources
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "name"), FORBIDDEN)
def test_every_transition_from_a_status_that_does_not_allow_it_is_refused(status, name, make_user):
    campaign = in_status(status)
    superuser = make_user(is_superuser=True)

    with pytest.raises(TransitionNotAllowed, match="impossible"):
        SERVICE_OF[name](campaign, superuser, "un motif")

    campaign.refresh_from_db()
    assert campaign.status == status
    assert not CampaignTransition.objects.exists()


WRONG_ROLES = [(name, role) for name in USER_TRANSITIONS for role in (*ALL_ROLES, None) if role != ROLE_OF[name]]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role"), WRONG_ROLES)
def test_every_transition_is_refused_to_every_role_without_its_permission(name, role, make_user):
    source = TRANSITIONS_BY_NAME[name].sources[0]
    campaign = in_status(source)

    with pytest.raises(CampaignPermissionDenied, match="droit"):
        SERVICE_OF[name](campaign, make_user(role=role), "un motif")

    campaign.refresh_from_db()
    assert campaign.status == source
    assert not CampaignTransition.objects.exists()


@pytest.mark.django_db
def test_command_line_actor_may_not_review_publish_or_pay():
    for name in ("reject", "validate", "publish", "pay"):
        campaign = in_status(TRANSITIONS_BY_NAME[name].sources[0])
        with pytest.raises(CampaignPermissionDenied, match="--user"):
            SERVICE_OF[name](campaign, COMMAND_LINE, "un motif")
        campaign.delete()


@pytest.mark.django_db
def test_four_eyes_the_launcher_may_not_validate_another_validator_may(make_user):
    both_roles = make_user(role=CALCULATOR)
    both_roles.groups.add(*make_user(role=VALIDATOR).groups.all())
    campaign = campaign_in_status(Status.COMPUTED, launched_by=both_roles)

    assert [t.name for t in allowed_transitions(campaign=campaign, actor=both_roles)] == ["reject"]
    with pytest.raises(CampaignPermissionDenied, match="Double contrôle"):
        services.validate_campaign(campaign=campaign, user=both_roles)
    campaign.refresh_from_db()
    assert campaign.status == Status.COMPUTED

    validator = make_user(role=VALIDATOR)
    validated = services.validate_campaign(campaign=campaign, user=validator, reason="relu")
    assert (validated.status, validated.validated_by) == (Status.VALIDATED, validator)
    record = CampaignTransition.objects.get()
    assert (record.from_status, record.to_status, record.user, record.reason) == (
        "computed",
        "validated",
        validator,
        "relu",
    )


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_goes_back_to_draft(make_user):
    validator = make_user(role=VALIDATOR)
    campaign = campaign_in_status(Status.COMPUTED)
    for blank in ("", "   "):
        with pytest.raises(CampaignError, match="motif est obligatoire"):
            services.reject_campaign(campaign=campaign, user=validator, reason=blank)
    assert not CampaignTransition.objects.exists()

    rejected = services.reject_campaign(campaign=campaign, user=validator, reason="Déciles 2022 erronés")

    assert rejected.status == Status.DRAFT
    record = CampaignTransition.objects.get()
    assert (record.from_status, record.to_status, record.user, record.reason) == (
        "computed",
        "draft",
        validator,
        "Déciles 2022 erronés",
    )


@pytest.mark.django_db
def test_create_campaign_merges_parameters_and_refuses_a_second_open_campaign(make_user):
    calculator = make_user(role=CALCULATOR)
    with pytest.raises(CampaignPermissionDenied):
        services.create_campaign(year=2022, user=make_user(role=READER))

    campaign = services.create_campaign(
        year=2022, user=calculator, parameters={"min_patients": 300, "national_ceiling_rate": "0.0065"}
    )

    assert (campaign.status, campaign.version, campaign.created_by) == (Status.DRAFT, 1, calculator)
    assert campaign.parameters["min_patients"] == 300
    assert campaign.parameters["national_ceiling_rate"] == "0.0065"
    assert campaign.parameters["c_ecart"] == "1/3"  # defaults stored with it, so it can be recomputed as is
    with pytest.raises(CampaignError, match="v1 est en cours"):
        services.create_campaign(year=2022, user=calculator)


@pytest.mark.django_db
def test_bad_parameters_are_refused_all_at_once_naming_each(make_user):
    calculator = make_user(role=CALCULATOR)
    with pytest.raises(CampaignError) as refused:
        services.create_campaign(
            year=2022, user=calculator, parameters={"c_ecart": "1/2", "c_partage": "2", "bogus": 1}
        )
    text = "\n".join(refused.value.messages)
    assert "bogus" in text and "c_partage" in text and "c_ecart" in text
    assert not Campaign.objects.exists()

    campaign = services.create_campaign(year=2022, user=calculator)
    with pytest.raises(CampaignError, match="min_patients"):
        services.update_campaign_parameters(campaign=campaign, user=calculator, parameters={"min_patients": "12.5"})
    updated = services.update_campaign_parameters(campaign=campaign, user=calculator, parameters={"min_patients": 300})
    assert updated.parameters["min_patients"] == 300


@pytest.mark.django_db
def test_parameters_are_frozen_once_launched(make_user):
    calculator = make_user(role=CALCULATOR)
    for status in (Status.COMPUTING, Status.COMPUTED, Status.VALIDATED, Status.PUBLISHED, Status.PAID):
        campaign = campaign_in_status(status, heartbeat_at=timezone.now())
        with pytest.raises(CampaignError, match="ne sont plus modifiables"):
            services.update_campaign_parameters(campaign=campaign, user=calculator, parameters={"min_patients": 1})
        campaign.delete()


@pytest.mark.django_db
@pytest.mark.parametrize("old_status", [Status.PUBLISHED, Status.PAID])
def test_a_correction_is_a_new_version_that_supersedes_the_old_one_when_published(old_status, make_user):
    calculator, validator = make_user(role=CALCULATOR), make_user(role=VALIDATOR)
    old = campaign_in_status(old_status, parameters={"min_patients": 300})

    new = services.create_campaign(year=2022, user=calculator, parameters={"national_ceiling_rate": "0.0065"})

    assert (new.version, new.supersedes, new.status) == (2, old, Status.DRAFT)
    assert new.parameters["min_patients"] == 300  # starts from the version it corrects
    assert new.parameters["national_ceiling_rate"] == "0.0065"
    Campaign.objects.filter(pk=new.pk).update(status=Status.VALIDATED)

    with pytest.raises(CampaignError, match="motif de la correction de la version 1"):
        services.publish_campaign(campaign=new, user=validator, reason="  ")
    published = services.publish_campaign(campaign=new, user=validator, reason="Plafond national corrigé.")

    old.refresh_from_db()
    assert (published.status, old.status) == (Status.PUBLISHED, Status.SUPERSEDED)
    supersede = CampaignTransition.objects.get(campaign=old)
    assert (supersede.from_status, supersede.to_status, supersede.user) == (old_status, "superseded", validator)
    assert supersede.reason == "Remplacée par la version 2 : Plafond national corrigé."
    assert published.transitions.get(to_status="published").reason == "Plafond national corrigé."
    # The new version in force may itself be corrected by a version 3.
    assert services.create_campaign(year=2022, user=calculator).version == 3


@pytest.mark.django_db
def test_the_database_refuses_two_campaigns_in_force_or_two_open_for_a_year():
    campaign_in_status(Status.PUBLISHED, version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        campaign_in_status(Status.PAID, version=2)
    campaign_in_status(Status.DRAFT, version=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        campaign_in_status(Status.FAILED, version=4)


@pytest.mark.django_db
def test_payment_writes_the_ledger_in_the_same_transaction(make_user, monkeypatch):
    """The financing app writes the lines from its receiver of `campaign_transitioned` (financing/apps.py),
    inside the transaction of the status change: its failure undoes the payment."""
    from financing.services import ledger

    validator = make_user(role=VALIDATOR)
    campaign = campaign_in_status(Status.PUBLISHED)
    calls = []

    def refuse(*, campaign, user):
        calls.append((campaign.status, user, transaction.get_connection().in_atomic_block))
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(ledger, "record_campaign_payments", refuse)
    with pytest.raises(RuntimeError):
        services.pay_campaign(campaign=campaign, user=validator)

    campaign.refresh_from_db()
    assert calls == [(Status.PAID, validator, True)]
    assert campaign.status == Status.PUBLISHED  # the ledger failed: the payment is undone with it
    assert not CampaignTransition.objects.exists()

    monkeypatch.undo()
    paid = services.pay_campaign(campaign=campaign, user=validator)
    assert paid.status == Status.PAID and paid.paid_at is not None


@pytest.mark.django_db
def test_statements_are_rendered_after_commit_on_computed_and_validated_and_announced_on_published(
    make_user, monkeypatch, django_capture_on_commit_callbacks
):
    from reports import services as reports

    calls = []
    monkeypatch.setattr(
        reports, "render_campaign_statements", lambda *, campaign: calls.append(("render", campaign.status))
    )
    monkeypatch.setattr(
        reports, "notify_statement_publication", lambda *, campaign: calls.append(("notify", campaign.status))
    )
    validator = make_user(role=VALIDATOR)
    campaign = campaign_in_status(Status.COMPUTED)

    with django_capture_on_commit_callbacks() as callbacks:
        services.validate_campaign(campaign=campaign, user=validator)
    assert calls == []  # nothing before the commit
    for callback in callbacks:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_campaign(campaign=campaign, user=validator)

    # Drawn again at publication: the statements then print their contestation deadline.
    assert calls == [("render", Status.VALIDATED), ("render", Status.PUBLISHED), ("notify", Status.PUBLISHED)]


@pytest.mark.django_db
@pytest.mark.parametrize("year", [0, 1999, 2101, 10000])
def test_a_campaign_year_outside_the_supported_range_is_refused_before_anything_is_stored(year, make_user):
    # Year 0 used to be stored, then crashed its launch (`date(0, 12, 31)`).
    with pytest.raises(CampaignError, match="Année de campagne invalide"):
        services.create_campaign(year=year, user=make_user(role=CALCULATOR))
    assert not Campaign.objects.exists()
