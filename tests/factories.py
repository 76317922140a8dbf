"""factory-boy factories for the models used across the suite."""
import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

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
