"""Creation rules, ending, transfer and the race between two staff pairing at once."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from children.models import ChildStatus, ExitReason
from pairing.models import EndReason, Pairing, PairingStatus
from pairing.services import create_pairing, end_pairing, transfer_pairing, unit_may_serve
from teams.models import CheckResult, Federation, VolunteerStatus
from tests.pairing.conftest import ChildFactory, TeamFactory, VolunteerFactory, eligible_volunteer
from tests.teams.conftest import SafeguardingCheckFactory

pytestmark = pytest.mark.django_db


def messages(exc, field):
    return " ".join(exc.value.message_dict[field])


def test_pairing_with_eligible_volunteer_of_the_village(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["a1"])
    pairing = create_pairing(child=child, volunteer=volunteer, by=siming_staff)
    assert pairing.status == PairingStatus.ACTIVE
    assert pairing.created_by == siming_staff
    assert pairing.start_date == timezone.localdate()


def test_child_who_left_the_programme_cannot_be_paired(places, siming_staff):
    child = ChildFactory(
        village=places["a1"], status=ChildStatus.LEFT, exit_reason=ExitReason.MOVED_AWAY, exit_date=timezone.localdate()
    )
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=child, volunteer=eligible_volunteer(places["a1"]), by=siming_staff)
    assert "已退出项目" in messages(exc, "child")


@pytest.mark.parametrize(
    "setup",
    ["applied", "suspended", "no_check", "expired_check", "record_found"],
)
def test_ineligible_volunteer_is_refused(places, siming_staff, setup):
    child = ChildFactory(village=places["a1"])
    today = timezone.localdate()
    if setup in ("applied", "suspended"):
        volunteer = eligible_volunteer(
            places["a1"], status={"applied": VolunteerStatus.APPLIED}.get(setup, "suspended")
        )
    else:
        volunteer = VolunteerFactory(federation=places["a1"])
        if setup == "expired_check":
            SafeguardingCheckFactory(
                volunteer=volunteer,
                checked_on=today - datetime.timedelta(days=500),
                valid_until=today - datetime.timedelta(days=1),
            )
        if setup == "record_found":
            SafeguardingCheckFactory(volunteer=volunteer)
            SafeguardingCheckFactory(volunteer=volunteer, result=CheckResult.RECORD_FOUND)
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=child, volunteer=volunteer, by=siming_staff)
    assert "无违法犯罪记录查询" in messages(exc, "volunteer")
    assert not Pairing.objects.exists()


def test_volunteer_at_capacity_is_refused(places, siming_staff):
    volunteer = eligible_volunteer(places["a1"], capacity=1)
    create_pairing(child=ChildFactory(village=places["a1"]), volunteer=volunteer, by=siming_staff)
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=ChildFactory(village=places["a1"]), volunteer=volunteer, by=siming_staff)
    assert "达到可结对人数上限(1 名)" in messages(exc, "volunteer")


def test_ended_pairings_do_not_count_against_capacity(places, siming_staff):
    volunteer = eligible_volunteer(places["a1"], capacity=1)
    first = create_pairing(child=ChildFactory(village=places["a1"]), volunteer=volunteer, by=siming_staff)
    end_pairing(pairing=first, reason=EndReason.FAMILY_REQUEST, by=siming_staff)
    create_pairing(child=ChildFactory(village=places["a1"]), volunteer=volunteer, by=siming_staff)
    assert Pairing.objects.active().filter(volunteer=volunteer).count() == 1


def test_team_at_capacity_is_refused(places, siming_staff):
    team = TeamFactory(federation=places["a1"], capacity=1)
    create_pairing(child=ChildFactory(village=places["a1"]), team=team, by=siming_staff)
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=ChildFactory(village=places["a1"]), team=team, by=siming_staff)
    assert "达到可结对人数上限" in messages(exc, "team")


def test_same_child_and_volunteer_twice_is_refused(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["a1"])
    create_pairing(child=child, volunteer=volunteer, by=siming_staff)
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=child, volunteer=volunteer, by=siming_staff)
    assert "已与" in messages(exc, "volunteer")


def test_child_may_have_a_mother_and_a_specialty_team(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    create_pairing(child=child, volunteer=eligible_volunteer(places["a1"]), by=siming_staff)
    create_pairing(child=child, team=TeamFactory(federation=places["street_a"]), by=siming_staff)
    assert child.pairings.filter(status=PairingStatus.ACTIVE).count() == 2


def test_database_refuses_two_active_pairings_of_same_partner(places):
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["a1"])
    Pairing.objects.create(child=child, volunteer=volunteer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(child=child, volunteer=volunteer)


def test_database_refuses_pairing_with_both_or_neither(places):
    child = ChildFactory(village=places["a1"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(child=child)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(
            child=child, volunteer=eligible_volunteer(places["a1"]), team=TeamFactory(federation=places["a1"])
        )


@pytest.mark.parametrize("where", ["a1", "a2", "street_a", "b1", "siming", "xiamen"])
def test_unit_rule_allows_village_ancestors_and_same_district(places, siming, xiamen, siming_staff, where):
    unit = {"siming": siming, "xiamen": xiamen}.get(where) or places[where]
    child = ChildFactory(village=places["a1"])
    assert unit_may_serve(unit, places["a1"])
    create_pairing(child=child, team=TeamFactory(federation=unit), by=siming_staff)


def test_unit_rule_refuses_other_district_for_district_staff(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["h1"])
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=child, volunteer=volunteer, by=siming_staff, reason="就近照顾")
    assert "跨区结对须由市级工作人员办理" in messages(exc, "volunteer")


def test_city_level_user_pairs_across_districts_only_with_a_reason(places, city_staff):
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["h1"])
    with pytest.raises(ValidationError) as exc:
        create_pairing(child=child, volunteer=volunteer, by=city_staff)
    assert "须填写原因" in messages(exc, "reason")
    pairing = create_pairing(child=child, volunteer=volunteer, by=city_staff, reason="市妇联定向结对")
    assert pairing.reason == "市妇联定向结对"


def test_organ_unit_volunteer_is_not_in_the_childs_district(xiamen, places, siming_staff):
    organ = Federation(name="市直机关妇工委", parent=xiamen, level="district", kind="organ")
    organ.save()
    assert not unit_may_serve(organ, places["a1"])


def test_start_date_in_future_is_refused(places, siming_staff):
    with pytest.raises(ValidationError) as exc:
        create_pairing(
            child=ChildFactory(village=places["a1"]),
            volunteer=eligible_volunteer(places["a1"]),
            by=siming_staff,
            start_date=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert "不能晚于今天" in messages(exc, "start_date")


# --- ending and transfer -----------------------------------------------------------------


def test_end_pairing_keeps_the_record(places, siming_staff):
    pairing = create_pairing(
        child=ChildFactory(village=places["a1"]), volunteer=eligible_volunteer(places["a1"]), by=siming_staff
    )
    end_pairing(pairing=pairing, reason=EndReason.VOLUNTEER_LEFT, by=siming_staff, note="搬家")
    pairing.refresh_from_db()
    assert (pairing.status, pairing.end_reason, pairing.ended_by, pairing.end_note) == (
        PairingStatus.ENDED,
        EndReason.VOLUNTEER_LEFT,
        siming_staff,
        "搬家",
    )
    with pytest.raises(ValidationError) as exc:
        end_pairing(pairing=pairing, reason=EndReason.OTHER, by=siming_staff)
    assert "已结束" in messages(exc, "status")


def test_end_pairing_requires_a_reason(places, siming_staff):
    pairing = create_pairing(
        child=ChildFactory(village=places["a1"]), volunteer=eligible_volunteer(places["a1"]), by=siming_staff
    )
    with pytest.raises(ValidationError) as exc:
        end_pairing(pairing=pairing, reason="", by=siming_staff)
    assert "结束原因" in messages(exc, "end_reason")


def test_transfer_ends_old_and_starts_new(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    old = create_pairing(child=child, volunteer=eligible_volunteer(places["a1"]), by=siming_staff)
    new_volunteer = eligible_volunteer(places["a2"])
    new = transfer_pairing(pairing=old, volunteer=new_volunteer, by=siming_staff)
    old.refresh_from_db()
    assert old.status == PairingStatus.ENDED and old.end_reason == EndReason.REASSIGNED
    assert new.volunteer == new_volunteer and new.status == PairingStatus.ACTIVE
    assert Pairing.objects.filter(child=child).count() == 2


def test_failed_transfer_leaves_old_pairing_active(places, siming_staff):
    child = ChildFactory(village=places["a1"])
    old = create_pairing(child=child, volunteer=eligible_volunteer(places["a1"]), by=siming_staff)
    not_eligible = VolunteerFactory(federation=places["a2"])  # no safeguarding check
    with pytest.raises(ValidationError):
        transfer_pairing(pairing=old, volunteer=not_eligible, by=siming_staff)
    old.refresh_from_db()
    assert old.status == PairingStatus.ACTIVE and old.end_date is None
    assert Pairing.objects.filter(child=child).count() == 1


# --- two staff at once (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pairings_one_wins_other_gets_clear_error(places, siming_staff):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    child = ChildFactory(village=places["a1"])
    volunteer = eligible_volunteer(places["a1"], capacity=5)
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        try:
            barrier.wait()
            pairing = create_pairing(child=child, volunteer=volunteer, by=siming_staff)
            results.append(("ok", pairing.pk))
        except ValidationError as exc:
            results.append(("error", " ".join(exc.message_dict["volunteer"])))
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            results.append(("crash", repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert "已与" in error and "结对" in error
    assert Pairing.objects.active().filter(child=child, volunteer=volunteer).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_pairings_cannot_exceed_capacity(places, siming_staff):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions need PostgreSQL")
    volunteer = eligible_volunteer(places["a1"], capacity=1)
    kids = [ChildFactory(village=places["a1"]) for _ in range(2)]
    barrier = threading.Barrier(2)
    results = []

    def attempt(child):
        try:
            barrier.wait()
            create_pairing(child=child, volunteer=volunteer, by=siming_staff)
            results.append("ok")
        except ValidationError as exc:
            results.append(" ".join(exc.message_dict["volunteer"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(k,)) for k in kids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results.count("ok") == 1 and any("上限" in r for r in results), results
    assert Pairing.objects.active().filter(volunteer=volunteer).count() == 1


# --- audit and change history ------------------------------------------------------------


def test_creating_and_ending_a_pairing_writes_history_and_one_audit_event_each(places, siming_staff):
    from teams.models import AuditAction, AuditEvent

    baseline = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pairing = create_pairing(
        child=ChildFactory(village=places["a1"]), volunteer=eligible_volunteer(places["a1"]), by=siming_staff
    )
    end_pairing(pairing=pairing, reason=EndReason.FAMILY_REQUEST, by=siming_staff)
    created, ended = AuditEvent.objects.filter(pk__gt=baseline).order_by("pk")
    assert (created.action, created.actor, created.object_id) == (
        AuditAction.PAIRING_CREATED,
        siming_staff,
        str(pairing.pk),
    )
    assert (ended.action, ended.details["end_reason"]) == (AuditAction.PAIRING_ENDED, EndReason.FAMILY_REQUEST)
    history = list(pairing.history.order_by("history_id"))
    assert [(h.history_type, h.status, h.history_user) for h in history] == [
        ("+", "active", siming_staff),
        ("~", "ended", siming_staff),
    ]
