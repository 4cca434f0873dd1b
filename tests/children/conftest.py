"""Factories and fixtures for the children register.

Children are placed in real Xiamen villages (the `xiamen` fixture), with valid fictitious
ID numbers whose birth date and sex agree with the record.
"""

import datetime
import itertools

import factory
import pytest

from aixinmama.identity import make_id_number
from children.models import Child, ConsentRecord, Guardian
from teams.models import Federation

_sequence = itertools.count(1)


def village_in(unit):
    return Federation.objects.within(unit).filter(level="village").order_by("path").first()


def id_for(village, birth_date, sex):
    return make_id_number(village.division_code[:6], birth_date, next(_sequence), sex)


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    name = factory.Sequence(lambda n: f"儿童{n}")
    sex = "female"
    birth_date = datetime.date(2015, 6, 1)
    village = factory.LazyFunction(lambda: Federation.objects.filter(level="village").order_by("path").first())
    id_number = factory.LazyAttribute(lambda o: id_for(o.village, o.birth_date, o.sex))


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    child = factory.SubFactory(ChildFactory)
    name = factory.Sequence(lambda n: f"监护人{n}")
    relation = "mother"
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    lives_with_child = True


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    child = factory.SubFactory(ChildFactory)
    given_by = "王芳"
    given_on = datetime.date(2024, 1, 10)
    method = "paper_form"
    purpose = "登记个人信息并用于结对关爱"


@pytest.fixture
def siming_village(siming):
    return village_in(siming)


@pytest.fixture
def haicang_village(haicang):
    return village_in(haicang)


@pytest.fixture
def siming_child(siming_village):
    return ChildFactory(village=siming_village, name="林小雨")


@pytest.fixture
def haicang_child(haicang_village):
    return ChildFactory(village=haicang_village, name="陈小海")


CHILD_PERMS = ["children.view_child", "children.change_child", "children.add_child", "children.delete_child"]
GUARDIAN_PERMS = ["children.view_guardian", "children.change_guardian", "children.add_guardian"]
CONSENT_PERMS = ["children.view_consentrecord", "children.change_consentrecord", "children.add_consentrecord"]


@pytest.fixture
def siming_children_staff(siming, staff_factory):
    """思明区 staff who manage children but may NOT see full identities."""
    return staff_factory(siming, "siming-children", permissions=CHILD_PERMS + GUARDIAN_PERMS + CONSENT_PERMS)


@pytest.fixture
def siming_identity_staff(siming, staff_factory):
    """思明区 staff with the explicit full-identity permission."""
    return staff_factory(
        siming,
        "siming-identity",
        permissions=CHILD_PERMS + GUARDIAN_PERMS + CONSENT_PERMS + ["children.view_full_identity"],
    )
