import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from aixinmama.identity import make_id_number
from teams.models import CheckResult, Volunteer, VolunteerStatus, VolunteerStatusChange
from teams.services import (
    approve_applicants,
    change_volunteer_status,
    record_safeguarding_check,
    register_volunteer,
)

from .conftest import SafeguardingCheckFactory, VolunteerFactory

GOOD_FEMALE_ID = make_id_number("350203", datetime.date(1985, 3, 9), 12, "female")
GOOD_MALE_ID = make_id_number("350205", datetime.date(1979, 11, 30), 7, "male")
GOOD_X_ID = "11010519491231002X"  # the GB 11643 worked example, check character X


def _volunteer(unit, **kwargs):
    fields = {
        "name": "林美华",
        "sex": "female",
        "id_number": GOOD_FEMALE_ID,
        "mobile": "13906001234",
        "federation": unit,
    }
    fields.update(kwargs)
    return Volunteer(**fields)


@pytest.mark.parametrize(
    ("id_number", "sex", "ok"),
    [
        (GOOD_FEMALE_ID, "female", True),
        (GOOD_FEMALE_ID.lower(), "female", True),
        (GOOD_MALE_ID, "male", True),
        (GOOD_X_ID, "female", True),
        (GOOD_X_ID.lower(), "female", True),  # lower-case x is normalised
        (GOOD_FEMALE_ID[:17] + ("0" if GOOD_FEMALE_ID[17] != "0" else "1"), "female", False),  # check digit
        (GOOD_FEMALE_ID[:17], "female", False),  # 17 characters
        ("35020319851309001X", "female", False),  # month 13
        ("350203198502300010", "female", False),  # 30 February
        ("3502031985030900A1", "female", False),  # letter inside
        (make_id_number("350203", datetime.date(2099, 1, 1), 1, "female"), "female", False),  # future birth
        (GOOD_MALE_ID, "female", False),  # sex disagrees with the ID
        (GOOD_FEMALE_ID, "male", False),
    ],
)
def test_id_number_validation(db, siming, id_number, sex, ok):
    volunteer = _volunteer(siming, id_number=id_number, sex=sex)
    if ok:
        volunteer.full_clean()
        assert volunteer.id_number == id_number.upper()
        assert volunteer.birth_date == datetime.date(
            int(volunteer.id_number[6:10]), int(volunteer.id_number[10:12]), int(volunteer.id_number[12:14])
        )
    else:
        with pytest.raises(ValidationError) as exc:
            volunteer.full_clean()
        assert {"id_number", "sex"} & set(exc.value.message_dict)


@pytest.mark.parametrize(
    ("mobile", "normalised"),
    [
        ("13906001234", "13906001234"),
        ("139 0600 1234", "13906001234"),
        ("+8613906001234", "13906001234"),
        ("139-0600-1234", "13906001234"),
        ("19912345678", "19912345678"),
        ("1390600123", None),  # 10 digits
        ("139060012345", None),  # 12 digits
        ("23906001234", None),  # not starting with 1
        ("12906001234", None),  # 12x is not a mobile prefix
        ("0592-1234567", None),  # landline
        ("", None),
    ],
)
def test_mobile_validation(db, siming, mobile, normalised):
    volunteer = _volunteer(siming, mobile=mobile)
    if normalised:
        volunteer.full_clean()
        assert volunteer.mobile == normalised
    else:
        with pytest.raises(ValidationError) as exc:
            volunteer.full_clean()
        assert "mobile" in exc.value.message_dict


def test_id_number_unique_after_normalisation(db, siming):
    register_volunteer(volunteer=_volunteer(siming, id_number=GOOD_X_ID))
    duplicate = _volunteer(siming, id_number=GOOD_X_ID.lower(), name="另一人")
    with pytest.raises(ValidationError) as exc:
        duplicate.full_clean()
    assert "id_number" in exc.value.message_dict


def test_lower_case_id_refused_by_database(db, siming):
    with pytest.raises(IntegrityError), transaction.atomic():
        Volunteer.objects.create(
            name="x", id_number=GOOD_X_ID.lower(), birth_date=datetime.date(1949, 12, 31), mobile="13906001234",
            federation=siming,
        )  # fmt: skip


def test_lifecycle_records_every_step(db, siming, city_admin):
    volunteer = register_volunteer(volunteer=_volunteer(siming), by=city_admin)
    assert volunteer.status == VolunteerStatus.APPLIED
    change_volunteer_status(volunteer=volunteer, to=VolunteerStatus.ACTIVE, by=city_admin, note="面谈通过")
    change_volunteer_status(volunteer=volunteer, to=VolunteerStatus.SUSPENDED, by=city_admin)
    change_volunteer_status(volunteer=volunteer, to=VolunteerStatus.ACTIVE, by=city_admin)
    change_volunteer_status(volunteer=volunteer, to=VolunteerStatus.LEFT, by=city_admin, note="搬离厦门")
    volunteer.refresh_from_db()
    assert volunteer.status == VolunteerStatus.LEFT
    steps = list(volunteer.status_changes.values_list("from_status", "to_status", "changed_by", "note"))
    assert steps == [
        ("", "applied", city_admin.pk, "登记"),
        ("applied", "active", city_admin.pk, "面谈通过"),
        ("active", "suspended", city_admin.pk, ""),
        ("suspended", "active", city_admin.pk, ""),
        ("active", "left", city_admin.pk, "搬离厦门"),
    ]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("applied", "suspended"),
        ("left", "active"),
        ("left", "applied"),
        ("active", "applied"),
        ("suspended", "applied"),
        ("active", "active"),
        ("active", "nonsense"),
    ],
)
def test_disallowed_transitions_change_nothing(db, siming, start, to):
    volunteer = VolunteerFactory(federation=siming, status=start)
    with pytest.raises(ValidationError):
        change_volunteer_status(volunteer=volunteer, to=to)
    volunteer.refresh_from_db()
    assert volunteer.status == start
    assert not VolunteerStatusChange.objects.filter(volunteer=volunteer).exists()


@pytest.mark.parametrize("start", ["applied", "active", "suspended"])
def test_anyone_not_gone_may_leave(db, siming, start):
    volunteer = VolunteerFactory(federation=siming, status=start)
    change_volunteer_status(volunteer=volunteer, to="left")
    volunteer.refresh_from_db()
    assert volunteer.status == "left"


def test_history_rows_are_append_only(db, siming):
    volunteer = VolunteerFactory(federation=siming, status="applied")
    change = change_volunteer_status(volunteer=volunteer, to="active")
    change.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        change.save()


def test_approve_applicants_in_bulk(db, siming, city_admin, django_assert_max_num_queries):
    applicants = VolunteerFactory.create_batch(5, federation=siming, status="applied")
    others = [VolunteerFactory(federation=siming, status=s) for s in ("active", "suspended", "left")]
    qs = Volunteer.objects.filter(pk__in=[v.pk for v in applicants + others])
    with django_assert_max_num_queries(8):  # incl. re-reading the rows and one bulk insert of their history
        counts = approve_applicants(qs, by=city_admin)
    assert counts == {"approved": 5, "skipped": 3}
    assert set(Volunteer.objects.filter(pk__in=[v.pk for v in applicants]).values_list("status", flat=True)) == {
        "active"
    }
    assert [Volunteer.objects.get(pk=v.pk).status for v in others] == ["active", "suspended", "left"]
    assert (
        VolunteerStatusChange.objects.filter(from_status="applied", to_status="active", changed_by=city_admin).count()
        == 5
    )


# --- eligibility -------------------------------------------------------------------


def _today():
    return timezone.localdate()


def test_eligible_only_active_with_valid_clear_check(db, siming):
    today = _today()
    day = datetime.timedelta(days=1)

    def with_check(
        status="active", result=CheckResult.CLEAR, checked_on=today - 10 * day, valid_until=today + 100 * day
    ):
        v = VolunteerFactory(federation=siming, status=status)
        SafeguardingCheckFactory(volunteer=v, result=result, checked_on=checked_on, valid_until=valid_until)
        return v

    eligible = with_check()
    expires_today = with_check(valid_until=today)
    expired = with_check(valid_until=today - day)
    pending = with_check(result=CheckResult.PENDING)
    record = with_check(result=CheckResult.RECORD_FOUND)
    suspended = with_check(status="suspended")
    applied = with_check(status="applied")
    left = with_check(status="left")
    no_check = VolunteerFactory(federation=siming, status="active")
    clear_then_record = with_check()
    SafeguardingCheckFactory(volunteer=clear_then_record, result=CheckResult.RECORD_FOUND, checked_on=today)

    got = set(Volunteer.objects.eligible())
    assert got == {eligible, expires_today}
    for v in (expired, pending, record, suspended, applied, left, no_check, clear_then_record):
        assert v not in got
    # On a later day the check that expired today no longer counts.
    assert set(Volunteer.objects.eligible(on=today + day)) == {eligible}


def test_check_expiring_within_30_days(db, siming):
    today = _today()
    day = datetime.timedelta(days=1)
    soon = VolunteerFactory(federation=siming)
    SafeguardingCheckFactory(volunteer=soon, valid_until=today + 30 * day)
    later = VolunteerFactory(federation=siming)
    SafeguardingCheckFactory(volunteer=later, valid_until=today + 31 * day)
    renewed = VolunteerFactory(federation=siming)  # an old check expiring soon, renewed since
    SafeguardingCheckFactory(volunteer=renewed, checked_on=today - 300 * day, valid_until=today + 5 * day)
    SafeguardingCheckFactory(volunteer=renewed, checked_on=today - 2 * day, valid_until=today + 363 * day)
    expired = VolunteerFactory(federation=siming)
    SafeguardingCheckFactory(volunteer=expired, checked_on=today - 400 * day, valid_until=today - day)
    none = VolunteerFactory(federation=siming)

    assert set(Volunteer.objects.check_expiring()) == {soon}
    assert set(Volunteer.objects.check_expiring(within_days=31)) == {soon, later}
    assert set(Volunteer.objects.check_expired()) == {expired}
    assert set(Volunteer.objects.without_check()) == {none}


def test_check_validity_cannot_precede_check_date(db, siming):
    volunteer = VolunteerFactory(federation=siming)
    with pytest.raises(ValidationError) as exc:
        record_safeguarding_check(
            volunteer=volunteer, checked_on=_today(), valid_until=_today() - datetime.timedelta(days=1), result="clear"
        )
    assert "有效期不能早于查询日期" in str(exc.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafeguardingCheckFactory(
            volunteer=volunteer, checked_on=_today(), valid_until=_today() - datetime.timedelta(days=1)
        )


def test_record_check_makes_volunteer_eligible_and_a_record_suspends(db, siming, city_admin):
    volunteer = VolunteerFactory(federation=siming, status="active")
    assert not Volunteer.objects.eligible().filter(pk=volunteer.pk).exists()
    check = record_safeguarding_check(volunteer=volunteer, checked_on=_today(), result="clear", by=city_admin)
    assert check.valid_until == _today() + datetime.timedelta(days=365)
    assert Volunteer.objects.eligible().filter(pk=volunteer.pk).exists()

    record_safeguarding_check(volunteer=volunteer, checked_on=_today(), result="record_found", by=city_admin)
    volunteer.refresh_from_db()
    assert volunteer.status == "suspended"
    assert volunteer.status_changes.get().note == "无犯罪记录查询发现相关记录"
    assert not Volunteer.objects.eligible().filter(pk=volunteer.pk).exists()


def test_within_scopes_volunteers(db, siming, haicang, siming_village):
    mine = VolunteerFactory(federation=siming_village)
    theirs = VolunteerFactory(federation=haicang)
    assert set(Volunteer.objects.within(siming)) == {mine}
    assert set(Volunteer.objects.within(haicang)) == {theirs}
