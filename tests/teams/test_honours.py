import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.models import Federation, Honour, HonourKind

from .conftest import TeamFactory, VolunteerFactory

DAY = datetime.date(2024, 3, 8)


def _honour(awarding, **recipients):
    return Honour(
        kind=HonourKind.PLAQUE, name="鹭岛爱心妈妈+", batch="首批", awarded_on=DAY, awarding_unit=awarding, **recipients
    )


def test_exactly_one_recipient_in_database(db, xiamen, siming):
    team = TeamFactory(federation=siming)
    for recipients in ({}, {"recipient_unit": siming, "recipient_team": team}):
        with pytest.raises(IntegrityError, match="honour_exactly_one_recipient"), transaction.atomic():
            _honour(xiamen, **recipients).save()


@pytest.mark.parametrize("kind", ["unit", "team", "volunteer"])
def test_each_kind_of_recipient(db, xiamen, siming, kind):
    recipient = {
        "unit": lambda: {"recipient_unit": siming},
        "team": lambda: {"recipient_team": TeamFactory(federation=siming)},
        "volunteer": lambda: {"recipient_volunteer": VolunteerFactory(federation=siming)},
    }[kind]()
    honour = _honour(xiamen, **recipient)
    honour.full_clean()
    honour.save()
    assert honour.recipient == next(iter(recipient.values()))


def test_two_recipients_gets_a_form_message(db, xiamen, siming):
    honour = _honour(xiamen, recipient_unit=siming, recipient_volunteer=VolunteerFactory(federation=siming))
    with pytest.raises(ValidationError, match="获授对象只能是"):
        honour.full_clean()


def test_recipient_must_be_within_awarding_unit(db, siming, haicang):
    honour = _honour(siming, recipient_team=TeamFactory(federation=haicang))
    with pytest.raises(ValidationError, match="管辖范围"):
        honour.full_clean()


def test_honours_scoped_by_awarding_unit(db, xiamen, siming, haicang):
    village = Federation.objects.within(siming).filter(level="village").first()
    by_siming = _honour(siming, recipient_unit=village)
    by_siming.save()
    by_city = _honour(xiamen, recipient_unit=siming)
    by_city.save()
    assert list(Honour.objects.within(siming)) == [by_siming]
    assert set(Honour.objects.within(xiamen)) == {by_siming, by_city}
    assert not Honour.objects.within(haicang).exists()


def test_honour_admin_lists_and_scopes(client, xiamen, siming, haicang, city_admin):
    from django.urls import reverse

    from ..conftest import make_staff

    _honour(xiamen, recipient_unit=siming).save()
    by_haicang = _honour(haicang, recipient_team=TeamFactory(federation=haicang))
    by_haicang.save()
    client.force_login(city_admin)
    response = client.get(reverse("admin:teams_honour_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
    assert client.get(reverse("admin:teams_honour_add")).status_code == 200
    assert client.get(reverse("admin:teams_project_changelist")).status_code == 200

    client.force_login(make_staff(siming, "siming-honours", permissions=["teams.view_honour", "teams.change_honour"]))
    assert list(client.get(reverse("admin:teams_honour_changelist")).context["cl"].result_list) == []
    assert client.get(reverse("admin:teams_honour_change", args=[by_haicang.pk])).status_code == 404
