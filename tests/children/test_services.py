import datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from children.models import Child, ChildStatus, ExitReason
from children.services import age_out_children, find_possible_duplicates, set_risk_grade

from .conftest import ChildFactory


@pytest.mark.django_db
def test_age_out_marks_children_who_turned_18_and_is_idempotent(siming_village):
    today = datetime.date(2024, 6, 1)
    turned_today = ChildFactory(village=siming_village, birth_date=datetime.date(2006, 6, 1))
    turned_earlier = ChildFactory(village=siming_village, birth_date=datetime.date(2005, 2, 10))
    still_17 = ChildFactory(village=siming_village, birth_date=datetime.date(2006, 6, 2))

    assert len(age_out_children(today=today)) == 2
    turned_today.refresh_from_db()
    turned_earlier.refresh_from_db()
    still_17.refresh_from_db()
    assert turned_today.status == ChildStatus.LEFT
    assert turned_today.exit_reason == ExitReason.AGED_OUT
    assert turned_today.exit_date == datetime.date(2024, 6, 1)
    assert turned_earlier.exit_date == datetime.date(2023, 2, 10)  # the 18th birthday, not the run date
    assert still_17.status == ChildStatus.IN_PROGRAMME

    assert len(age_out_children(today=today)) == 0


@pytest.mark.django_db
def test_age_out_leaves_children_who_left_for_another_reason_alone(siming_village):
    moved = ChildFactory(
        village=siming_village,
        birth_date=datetime.date(2000, 1, 1),
        status=ChildStatus.LEFT,
        exit_reason=ExitReason.MOVED_AWAY,
        exit_date=datetime.date(2010, 1, 1),
    )
    assert len(age_out_children(today=datetime.date(2024, 6, 1))) == 0
    moved.refresh_from_db()
    assert moved.exit_reason == ExitReason.MOVED_AWAY


@pytest.mark.django_db
def test_age_out_command_reports_count_and_masked_names(siming_village):
    ChildFactory(village=siming_village, name="欧阳小雨", birth_date=datetime.date(2005, 1, 1))
    out = StringIO()
    call_command("age_out_children", "--date", "2024-06-01", stdout=out)
    text = out.getvalue()
    assert "已将 1 名" in text
    assert "欧***" in text and "欧阳小雨" not in text
    out = StringIO()
    call_command("age_out_children", "--date", "2024-06-01", stdout=out)
    assert "已将 0 名" in out.getvalue()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("age_out_children", "--date", "2024/06/01", stdout=StringIO())


@pytest.mark.django_db
def test_set_risk_grade_records_date_reason_and_who(siming_village, siming_staff):
    child = ChildFactory(village=siming_village)
    set_risk_grade(child=child, grade="red", reason="家中突发变故", by=siming_staff, today=datetime.date(2024, 3, 3))
    child.refresh_from_db()
    assert (child.risk_grade, child.risk_reason, child.risk_changed_on, child.risk_changed_by) == (
        "red",
        "家中突发变故",
        datetime.date(2024, 3, 3),
        siming_staff,
    )
    with pytest.raises(ValidationError) as info:
        set_risk_grade(child=child, grade="green", reason=" ", by=siming_staff)
    assert "risk_reason" in info.value.message_dict
    with pytest.raises(ValidationError):
        set_risk_grade(child=child, grade="purple", reason="x", by=siming_staff)
    assert Child.objects.get(pk=child.pk).risk_grade == "red"


@pytest.mark.django_db
def test_duplicate_check_is_scoped_to_the_users_jurisdiction(siming_village, haicang_village, siming_staff):
    birth = datetime.date(2015, 6, 1)
    mine = ChildFactory(village=siming_village, name="林小雨", birth_date=birth)
    ChildFactory(village=haicang_village, name="林小雨", birth_date=birth)
    found = find_possible_duplicates(user=siming_staff, name="林小雨", birth_date=birth)
    assert list(found) == [mine]
    assert not find_possible_duplicates(user=siming_staff, name="林小雨", birth_date=birth, exclude_pk=mine.pk).exists()
    assert not find_possible_duplicates(user=siming_staff, name="林小雨", birth_date=None).exists()
