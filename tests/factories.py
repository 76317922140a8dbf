"""factory-boy factories for the models used across the suite."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from calculations.models import Campaign, GroupementResult
from groupements.models import Groupement, Indicator, Member, PhaseCalendar, PortalAccess, Wave

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `role` is the name of a role group (groupements.roles): staff unless a groupement user."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()

    @classmethod
    def _create(cls, model_class, *args, role=None, **kwargs):
        kwargs.setdefault("is_staff", role is not None and role != "Utilisateur groupement")
        user = super()._create(model_class, *args, **kwargs)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wave
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"V{n + 1}")
    label = factory.LazyAttribute(lambda w: f"Vague {w.code[1:]}")
    entry_year = 2019
    reference_year = 2018


class PhaseCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseCalendar

    wave = factory.SubFactory(WaveFactory)
    year = 2022
    phase = 3


class GroupementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Groupement
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"G{n + 1:03d}")
    name = factory.LazyAttribute(lambda g: f"MSP {g.code}")
    wave = factory.SubFactory(WaveFactory)
    region = "Bretagne"


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    rpps = factory.Sequence(lambda n: f"{10_000_000_000 + n}")
    groupement = factory.SubFactory(GroupementFactory)
    start = datetime.date(2019, 1, 1)
    end = None


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"IND{n}")
    label = factory.LazyAttribute(lambda i: f"Indicateur {i.code}")
    family = "socle"
    direction = "hausse"


class PortalAccessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalAccess

    user = factory.SubFactory(UserFactory, role="Utilisateur groupement")
    groupement = factory.SubFactory(GroupementFactory)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    year = 2021
    version = 1
    status = Campaign.Status.PUBLISHED


class GroupementResultFactory(factory.django.DjangoModelFactory):
    """A result whose figures only matter where a test sets them."""

    class Meta:
        model = GroupementResult

    campaign = factory.SubFactory(CampaignFactory)
    groupement = factory.SubFactory(GroupementFactory)
    code = factory.LazyAttribute(lambda r: r.groupement.code)
    wave = factory.LazyAttribute(lambda r: r.groupement.wave.code)
    phase = 2
    reference_year = 2018
    n_patients = 1000
    n_patients_reference = 1000
    below_min_patients = True
    real_per_patient = 1000.0
    expected_per_patient = 1000.0
    real_per_patient_reference = 1000.0
    expected_per_patient_reference = 1000.0
    level_gap = 0.0
    level_gap_se = 0.0
    evolution_gap = 0.0
    amount_per_patient = 0.0
    efficiency_amount = 0.0
    quality_score = 0.0
    quality_ratio = 0.0
    drawing_right = 0.0
    quality_value = 0.0
    quality_amount = 0.0
    amount_before_cap = 0.0
    real_expenditure_total = 1_000_000.0
    cap = 20_000.0
    amount_after_cap = 0.0
    budget_guarantee = 1_000_000.0
    budget_guarantee_gain = 0.0
    final_amount = Decimal("0.00")
    indicator_points = 0.0
    score_max = 120.0
    positive_level_gap = 0.0
    positive_evolution_gap = 0.0
    truncated_expenditure_total = 1_000_000.0
    amount_after_coefficient = 0.0
