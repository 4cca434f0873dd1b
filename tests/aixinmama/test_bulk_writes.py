"""Bulk inserts and bulk history (aixinmama.history): COPY on PostgreSQL, bulk_create on SQLite,
the same rows either way."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from aixinmama.history import insert_objects, insert_rows, record_bulk_history
from aixinmama.identity import make_id_number
from children.models import Child, Guardian
from teams.models import Federation


def village():
    return Federation.objects.filter(level="village").order_by("path").first()


def new_child(unit, seq, **extra):
    birth = datetime.date(2015, 6, 1)
    return Child(
        name=f"儿童{seq}",
        sex="female",
        birth_date=birth,
        village=unit,
        id_number=make_id_number(unit.division_code[:6], birth, seq, "female"),
        **extra,
    )


@pytest.mark.django_db
def test_insert_objects_sets_keys_defaults_and_auto_dates(xiamen):
    unit = village()
    before = timezone.now()
    children = insert_objects(Child, [new_child(unit, 1), new_child(unit, 2, risk_grade="red")])
    assert all(c.pk is not None and not c._state.adding for c in children)
    assert len({c.pk for c in children}) == 2
    stored = {c.pk: c for c in Child.objects.filter(pk__in=[c.pk for c in children])}
    first, second = (stored[c.pk] for c in children)
    assert (first.name, first.village_id, first.risk_grade, first.status) == ("儿童1", unit.pk, "green", "in_programme")
    assert second.risk_grade == "red"
    assert first.created_at >= before and first.updated_at >= before
    assert first.exit_date is None and first.exit_reason == ""
    # The sequence moved past the reserved keys: an ordinary save gets a new one.
    later = new_child(unit, 3)
    later.save()
    assert later.pk not in stored


@pytest.mark.django_db
def test_insert_rows_writes_plain_rows_without_instances(xiamen):
    unit = village()
    (child,) = insert_objects(Child, [new_child(unit, 1)])
    written = insert_rows(
        Guardian,
        ["child_id", "name", "relation", "phone", "lives_with_child"],
        [(child.pk, "王芳", "mother", "13800001111", True), (child.pk, "林阿公", "grandfather", "", False)],
    )
    assert written == 2
    assert list(child.guardians.order_by("name").values_list("name", "relation", "phone", "lives_with_child")) == [
        ("林阿公", "grandfather", "", False),
        ("王芳", "mother", "13800001111", True),
    ]
    insert_rows(Child.categories.through, ["child_id", "category_id"], [(child.pk, "orphan"), (child.pk, "other")])
    assert sorted(child.categories.values_list("code", flat=True)) == ["orphan", "other"]


@pytest.mark.django_db(transaction=True)
def test_a_failed_insert_is_a_django_integrity_error_and_leaves_no_keys(xiamen):
    unit = village()
    twin = new_child(unit, 1)
    clash = new_child(unit, 2)
    clash.id_number = twin.id_number  # unique in the database
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_objects(Child, [twin, clash])
    assert twin.pk is None and clash.pk is None
    assert not Child.objects.exists()


@pytest.mark.django_db
def test_bulk_history_has_the_rows_simple_history_would_write(xiamen, siming_staff):
    unit = village()
    children = insert_objects(Child, [new_child(unit, 1), new_child(unit, 2, risk_grade="yellow")])
    assert record_bulk_history(Child, children, by=siming_staff, reason="表格导入", update=False) == 2
    for child in children:
        (entry,) = Child.history.filter(id=child.pk)
        assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
            "+",
            siming_staff,
            "表格导入",
        )
        assert (entry.name, entry.id_number, entry.village_id, entry.risk_grade) == (
            child.name,
            child.id_number,
            unit.pk,
            child.risk_grade,
        )
        assert entry.created_at == Child.objects.get(pk=child.pk).created_at
    # By primary key (re-read), an update without a user.
    Child.objects.filter(pk=children[0].pk).update(name="改名")
    record_bulk_history(Child, [children[0].pk], reason="x" * 150)
    latest = Child.history.filter(id=children[0].pk).first()
    assert (latest.history_type, latest.name, latest.history_user, len(latest.history_change_reason)) == (
        "~",
        "改名",
        None,
        100,
    )


def test_postgresql_path_is_the_one_under_test_there():
    # Documents which path a run covers: COPY on PostgreSQL, bulk_create on SQLite.
    from aixinmama.history import _uses_copy

    assert _uses_copy(Child, connection) == (connection.vendor == "postgresql")
