"""Shared fixtures: the Xiamen hierarchy and staff users at each tier.

Permission tests use three people, as in healthchecks: the owner (a staff member of the
unit that holds the record), a colleague higher up, and an outsider from another district.
"""

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

from teams.divisions import import_divisions
from teams.models import Federation, User

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
XIAMEN_CSV = DATA_DIR / "xiamen-divisions.csv"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def xiamen(db):
    """The whole Xiamen hierarchy (1 city, 6 districts, 54 streets, 555 villages)."""
    import_divisions(XIAMEN_CSV)
    return Federation.objects.get(division_code="3502")


@pytest.fixture
def siming(xiamen):
    return Federation.objects.get(division_code="350203")


@pytest.fixture
def haicang(xiamen):
    return Federation.objects.get(division_code="350205")


@pytest.fixture
def tongan(xiamen):
    return Federation.objects.get(division_code="350212")


def make_staff(unit, username=None, *, permissions=(), superuser=False):
    """An active staff user of `unit` holding the named permissions ("app.codename")."""
    user = User.objects.create_user(
        username=username or f"staff-{unit.division_code or unit.pk}",
        password="correct horse battery staple",
        federation=unit,
        is_staff=True,
        is_superuser=superuser,
    )
    for name in permissions:
        app_label, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return user


@pytest.fixture
def staff_factory(db):
    return make_staff


@pytest.fixture
def city_admin(xiamen):
    return make_staff(xiamen, "city-admin", superuser=True)


@pytest.fixture
def siming_staff(siming):
    return make_staff(
        siming,
        "siming-staff",
        permissions=[
            "teams.view_federation",
            "teams.change_federation",
            "teams.add_federation",
            "teams.delete_federation",
        ],
    )


@pytest.fixture
def haicang_staff(haicang):
    return make_staff(
        haicang,
        "haicang-staff",
        permissions=[
            "teams.view_federation",
            "teams.change_federation",
            "teams.add_federation",
            "teams.delete_federation",
        ],
    )
