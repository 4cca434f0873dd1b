"""Fixtures for volunteers, teams and honours (factories keep related rows in one jurisdiction)."""

import datetime
import itertools

import factory
import pytest
from django.utils import timezone

from aixinmama.identity import make_id_number
from teams.models import (
    CheckResult,
    Federation,
    Project,
    SafeguardingCheck,
    Team,
    TeamCategory,
    TeamKind,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)

_sequence = itertools.count(1)


def next_id_number(unit: Federation | None = None, *, sex: str = "female", birth=datetime.date(1980, 5, 17)) -> str:
    """A fresh valid ID number whose area code is the unit's district (or Siming)."""
    n = next(_sequence)
    area = (unit.division_code if unit and unit.division_code else "350203")[:6]
    return make_id_number(area, birth + datetime.timedelta(days=n // 400), n, sex)


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    name = factory.Sequence(lambda n: f"志愿者{n}")
    sex = "female"
    id_number = factory.LazyAttribute(lambda o: next_id_number(o.federation, sex=o.sex))
    birth_date = factory.LazyAttribute(
        lambda o: datetime.date(int(o.id_number[6:10]), int(o.id_number[10:12]), int(o.id_number[12:14]))
    )
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    status = VolunteerStatus.ACTIVE
    capacity = 2


class SafeguardingCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafeguardingCheck

    volunteer = factory.SubFactory(VolunteerFactory)
    checked_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    result = CheckResult.CLEAR
    valid_until = factory.LazyAttribute(lambda o: o.checked_on + datetime.timedelta(days=365))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"爱心妈妈队{n}")
    kind = TeamKind.SPECIALTY
    category = TeamCategory.CULTURE
    capacity = 5


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    volunteer = factory.SubFactory(VolunteerFactory, federation=factory.SelfAttribute("..team.federation"))


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"项目{n}")


@pytest.fixture
def siming_village(siming):
    return Federation.objects.within(siming).filter(level="village").order_by("path").first()


@pytest.fixture
def haicang_village(haicang):
    return Federation.objects.within(haicang).filter(level="village").order_by("path").first()


@pytest.fixture
def volunteer_factory(db):
    return VolunteerFactory


@pytest.fixture
def team_factory(db):
    return TeamFactory
