"""Change history (what changed, by whom) for children and volunteers, including the bulk
paths that send no model signals: spreadsheet imports, bulk approvals, ageing out."""

import datetime

import pytest

from children.models import Child
from children.services import age_out_children

from .conftest import ChildFactory
from .test_import_export import ID_A, ID_B, good_rows, import_csv, to_csv


@pytest.mark.django_db
def test_saving_a_child_records_who_changed_what(siming_children_staff, siming_child):
    siming_child.address = "新地址 1 号"
    siming_child._history_user = siming_children_staff
    siming_child.save()
    latest = siming_child.history.first()
    assert latest.history_type == "~"
    assert latest.history_user == siming_children_staff
    delta = latest.diff_against(latest.prev_record)
    assert [change.field for change in delta.changes] == ["address"]


@pytest.mark.django_db
def test_import_records_history_for_created_and_updated_children(siming_children_staff, siming_village):
    rows = good_rows(siming_village.division_code)
    assert import_csv(to_csv(rows), siming_children_staff).errors == []
    for id_number in (ID_A, ID_B):
        (created,) = Child.objects.get(id_number=id_number).history.all()
        assert (created.history_type, created.history_user) == ("+", siming_children_staff)

    rows[0][0] = "林小雨(改)"
    assert import_csv(to_csv(rows), siming_children_staff).errors == []
    renamed = Child.objects.get(id_number=ID_A).history.first()
    assert (renamed.history_type, renamed.name, renamed.history_user) == ("~", "林小雨(改)", siming_children_staff)


@pytest.mark.django_db
def test_failed_import_leaves_no_history(siming_children_staff, siming_village):
    rows = good_rows(siming_village.division_code)
    rows[1][2] = rows[1][2][:-1] + ("0" if rows[1][2][-1] != "0" else "1")  # wrong check digit
    assert import_csv(to_csv(rows), siming_children_staff).errors
    assert Child.history.count() == 0


@pytest.mark.django_db
def test_ageing_out_records_history(xiamen):
    child = ChildFactory(birth_date=datetime.date(2008, 1, 1))
    before = child.history.count()
    changed = age_out_children(today=datetime.date(2026, 1, 2))
    assert [pk for pk, _name, _date in changed] == [child.pk]
    assert child.history.count() == before + 1
    assert child.history.first().status == "left"
