"""Fixtures for pairing: eligible volunteers, teams and children placed in real Xiamen units."""

import pytest

from teams.models import Federation, Level, TeamKind
from tests.children.conftest import ChildFactory
from tests.teams.conftest import SafeguardingCheckFactory, TeamFactory, TeamMembershipFactory, VolunteerFactory

__all__ = ["ChildFactory", "TeamFactory", "TeamMembershipFactory", "VolunteerFactory", "eligible_volunteer"]

PAIRING_PERMS = [
    "pairing.view_pairing",
    "pairing.add_pairing",
    "pairing.change_pairing",
    "pairing.view_activitylog",
    "pairing.change_activitylog",
    "pairing.add_activitylog",
    "pairing.view_cadencesetting",
    "pairing.change_cadencesetting",
    "pairing.view_donation",
    "pairing.add_donation",
    "pairing.change_donation",
    "pairing.view_donor",
    "pairing.add_donor",
    "pairing.view_donationallocation",
    "pairing.add_donationallocation",
    "children.view_child",
    "teams.view_volunteer",
    "teams.view_team",
]


def eligible_volunteer(unit, **kwargs):
    """An active volunteer of `unit` with a clear safeguarding check valid today."""
    volunteer = VolunteerFactory(federation=unit, **kwargs)
    SafeguardingCheckFactory(volunteer=volunteer)
    return volunteer


def villages_of(unit):
    return list(Federation.objects.within(unit).filter(level=Level.VILLAGE).order_by("path"))


@pytest.fixture
def places(siming, haicang):
    """Two villages of one Siming street, a village of another Siming street, a Haicang village."""
    street_a, street_b = list(Federation.objects.filter(parent=siming).order_by("path")[:2])
    a1, a2 = villages_of(street_a)[:2]
    b1 = villages_of(street_b)[0]
    h1 = villages_of(haicang)[0]
    return {"street_a": street_a, "street_b": street_b, "a1": a1, "a2": a2, "b1": b1, "h1": h1}


@pytest.fixture
def community_team(places):
    return TeamFactory(federation=places["a1"], kind=TeamKind.COMMUNITY, category="", capacity=3, name="A1社区队伍")


@pytest.fixture
def pairing_staff_factory(staff_factory):
    def make(unit, username, extra=()):
        return staff_factory(unit, username, permissions=[*PAIRING_PERMS, *extra])

    return make


@pytest.fixture
def siming_pairing_staff(siming, pairing_staff_factory):
    return pairing_staff_factory(siming, "siming-pairing")


@pytest.fixture
def haicang_pairing_staff(haicang, pairing_staff_factory):
    return pairing_staff_factory(haicang, "haicang-pairing")


@pytest.fixture
def city_staff(xiamen, pairing_staff_factory):
    """A city-level staff member who is not a superuser."""
    return pairing_staff_factory(xiamen, "city-pairing")
