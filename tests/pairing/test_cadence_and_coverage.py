"""Contact cadence, overdue pairings and coverage, checked against a hand-counted fixture.

The fixture (today = T):
  a1 (Siming, street A): c1 red, paired with a volunteer since T-100, last log (submitted) T-20 -> overdue
                         c2 green, paired with a team since T-100, no log -> overdue;
                            and with a volunteer, approved log T-10 -> fine (c2 counted once as paired)
                         c3 unpaired; c4 only an ended pairing -> unpaired; c5 left the programme (not counted)
  a2 (Siming, street A): c6 yellow, paired since T-30, no log -> fine; c7 unpaired
  b1 (Siming, street B): c8 unpaired
  h1 (Haicang):          c9 orange, paired since T-40, only a returned log T-5 -> overdue; c10 green paired T-10
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from children.models import Child, ChildStatus, ExitReason
from pairing.models import CadenceSetting, EndReason, Pairing
from pairing.selectors import coverage, due_on, overdue_pairings, unpaired_children, volunteer_pairings
from pairing.services import (
    approve_activity,
    create_pairing,
    end_pairing,
    record_activity,
    return_activity,
    set_cadence,
)
from teams.models import TeamKind
from tests.pairing.conftest import ChildFactory, TeamFactory, eligible_volunteer

pytestmark = pytest.mark.django_db
T = timezone.localdate()


def days_ago(n):
    return T - datetime.timedelta(days=n)


@pytest.fixture
def world(places, city_admin):
    by = city_admin
    a1, a2, b1, h1 = places["a1"], places["a2"], places["b1"], places["h1"]
    kids = {}
    for name, village, grade in [
        ("c1", a1, "red"),
        ("c2", a1, "green"),
        ("c3", a1, "green"),
        ("c4", a1, "green"),
        ("c6", a2, "yellow"),
        ("c7", a2, "green"),
        ("c8", b1, "green"),
        ("c9", h1, "orange"),
        ("c10", h1, "green"),
    ]:
        kids[name] = ChildFactory(village=village, name=name, risk_grade=grade)
    kids["c5"] = ChildFactory(
        village=a1, name="c5", status=ChildStatus.LEFT, exit_reason=ExitReason.AGED_OUT, exit_date=days_ago(3)
    )
    mother = eligible_volunteer(a1, capacity=5)
    team = TeamFactory(federation=a1, kind=TeamKind.COMMUNITY, category="", capacity=5)
    p1 = create_pairing(child=kids["c1"], volunteer=mother, by=by, start_date=days_ago(100))
    record_activity(by=by, volunteer=mother, pairings=[p1], date=days_ago(20), kind="home_visit")
    p2t = create_pairing(child=kids["c2"], team=team, by=by, start_date=days_ago(100))
    p2v = create_pairing(child=kids["c2"], volunteer=mother, by=by, start_date=days_ago(100))
    approve_activity(
        activity=record_activity(by=by, volunteer=mother, pairings=[p2v], date=days_ago(10), kind="study"), by=by
    )
    p4 = create_pairing(child=kids["c4"], volunteer=mother, by=by, start_date=days_ago(50))
    end_pairing(pairing=p4, reason=EndReason.FAMILY_REQUEST, by=by, end_date=days_ago(5))
    p6 = create_pairing(child=kids["c6"], volunteer=mother, by=by, start_date=days_ago(30))
    h_mother = eligible_volunteer(h1, capacity=5)
    p9 = create_pairing(child=kids["c9"], volunteer=h_mother, by=by, start_date=days_ago(40))
    log = record_activity(by=by, volunteer=h_mother, pairings=[p9], date=days_ago(5), kind="counselling")
    return_activity(activity=log, by=by, comment="内容不完整")
    p10 = create_pairing(child=kids["c10"], volunteer=h_mother, by=by, start_date=days_ago(10))
    return {
        "kids": kids,
        "mother": mother,
        "team": team,
        "p1": p1,
        "p2t": p2t,
        "p2v": p2v,
        "p6": p6,
        "p9": p9,
        "p10": p10,
    }


def test_default_cadence_comes_from_the_data_migration():
    assert dict(CadenceSetting.objects.values_list("risk_grade", "days")) == {
        "red": 14,
        "orange": 30,
        "yellow": 60,
        "green": 90,
    }


def test_overdue_pairings_oldest_first(world, xiamen, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = list(overdue_pairings(unit=xiamen, today=T))
    # p2t: last contact = start T-100; p9: start T-40 (returned log ignored); p1: log T-20.
    assert [r.pk for r in rows] == [world["p2t"].pk, world["p9"].pk, world["p1"].pk]
    assert rows[2].last_activity_on == days_ago(20) and due_on(rows[2]) == days_ago(6)
    assert rows[0].last_activity_on is None and rows[0].last_contact_on == days_ago(100)


def test_overdue_within_a_jurisdiction(world, siming, haicang):
    assert {p.pk for p in overdue_pairings(unit=siming, today=T)} == {world["p1"].pk, world["p2t"].pk}
    assert [p.pk for p in overdue_pairings(unit=haicang, today=T)] == [world["p9"].pk]


def test_fixed_clock_moves_the_boundary(world, xiamen):
    # c6 (yellow, 60 days) started T-30: due at T+30, overdue from T+31.
    assert world["p6"].pk not in {p.pk for p in overdue_pairings(unit=xiamen, today=T + datetime.timedelta(days=30))}
    assert world["p6"].pk in {p.pk for p in overdue_pairings(unit=xiamen, today=T + datetime.timedelta(days=31))}
    # c1 (red, 14 days) last contact T-20: not overdue as of T-6, overdue as of T-5.
    assert world["p1"].pk not in {p.pk for p in overdue_pairings(unit=xiamen, today=days_ago(6))}
    assert world["p1"].pk in {p.pk for p in overdue_pairings(unit=xiamen, today=days_ago(5))}


def test_changing_the_cadence_changes_overdue(world, xiamen, city_admin, siming_staff):
    with pytest.raises(ValidationError):
        set_cadence(risk_grade="red", days=30, by=siming_staff)
    set_cadence(risk_grade="red", days=30, by=city_admin)
    assert world["p1"].pk not in {p.pk for p in overdue_pairings(unit=xiamen, today=T)}


def test_volunteer_pairings_show_last_activity_and_due_date(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = volunteer_pairings(world["mother"], today=T)
    by_pk = {r.pk: r for r in rows}
    assert set(by_pk) == {world["p1"].pk, world["p2v"].pk, world["p6"].pk}
    assert by_pk[world["p1"].pk].is_overdue and by_pk[world["p1"].pk].due_on == days_ago(6)
    assert by_pk[world["p2v"].pk].due_on == days_ago(10) + datetime.timedelta(days=90)
    assert not by_pk[world["p6"].pk].is_overdue


def test_volunteer_pairings_include_her_teams(world, siming_staff):
    from tests.pairing.conftest import TeamMembershipFactory

    member = TeamMembershipFactory(team=world["team"]).volunteer
    assert [r.pk for r in volunteer_pairings(member, today=T)] == [world["p2t"].pk]


# --- coverage ------------------------------------------------------------------------------


def as_tuple(row):
    return (row.children, row.paired, row.unpaired, row.overdue)


def test_coverage_city(world, xiamen, siming, haicang):
    result = coverage(xiamen, today=T)
    by_unit = {r.unit.pk: r for r in result.rows if r.unit}
    assert as_tuple(by_unit[siming.pk]) == (7, 3, 4, 2)
    assert as_tuple(by_unit[haicang.pk]) == (2, 2, 0, 1)
    assert sum(r.children for r in result.rows if r.unit.pk not in (siming.pk, haicang.pk)) == 0
    assert as_tuple(result.total) == (9, 5, 4, 3)
    assert result.total.rate == pytest.approx(5 / 9)
    assert len(result.rows) == 6  # every district listed, even with no children


def test_coverage_district(world, siming, places):
    result = coverage(siming, today=T)
    by_unit = {r.unit.pk: r for r in result.rows}
    assert as_tuple(by_unit[places["street_a"].pk]) == (6, 3, 3, 2)
    assert as_tuple(by_unit[places["street_b"].pk]) == (1, 0, 1, 0)
    assert as_tuple(result.total) == (7, 3, 4, 2)


def test_coverage_street(world, places):
    result = coverage(places["street_a"], today=T)
    by_unit = {r.unit.pk: r for r in result.rows}
    assert as_tuple(by_unit[places["a1"].pk]) == (4, 2, 2, 2)
    assert as_tuple(by_unit[places["a2"].pk]) == (2, 1, 1, 0)
    assert as_tuple(result.total) == (6, 3, 3, 2)


def test_coverage_village(world, places):
    result = coverage(places["a1"], today=T)
    assert [r.unit for r in result.rows] == [None]  # no sub-units: the village's own children
    assert as_tuple(result.total) == (4, 2, 2, 2)
    assert result.total.rate == 0.5


def test_unpaired_children(world, siming):
    assert sorted(c.name for c in unpaired_children(siming)) == ["c3", "c4", "c7", "c8"]


@pytest.mark.parametrize("count", [10, 1000])
def test_coverage_query_count_does_not_grow(places, xiamen, siming, city_admin, count, django_assert_num_queries):
    villages = [places["a1"], places["a2"], places["b1"], places["h1"]]
    Child.objects.bulk_create(
        [
            ChildFactory.build(
                village=villages[i % 4], risk_grade="red", birth_date=datetime.date(2012, 1, 1) + datetime.timedelta(i)
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    team = TeamFactory(federation=places["a1"], kind=TeamKind.COMMUNITY, category="", capacity=count)
    Pairing.objects.bulk_create(
        [Pairing(child=c, team=team, start_date=days_ago(30)) for c in Child.objects.filter(village=places["a1"])]
    )
    totals = {}
    for unit in (xiamen, siming):
        with django_assert_num_queries(5):  # sub-units, unit paths, cadence, children, overdue
            totals[unit.pk] = coverage(unit, today=T).total
    assert totals[xiamen.pk].children == count
    assert totals[siming.pk].paired == Pairing.objects.count() > 0


def test_stored_last_activity_matches_its_definition(world, city_admin):
    from pairing.models import ActivityLog
    from pairing.selectors import computed_last_activity
    from pairing.services import update_activity, withdraw_activity

    def check():
        rows = Pairing.objects.annotate(computed=computed_last_activity()).values_list("last_activity_on", "computed")
        assert all(stored == computed for stored, computed in rows)

    check()
    assert Pairing.objects.get(pk=world["p1"].pk).last_activity_on == days_ago(20)
    log = ActivityLog.objects.get(pairings=world["p1"])
    update_activity(activity=log, by=city_admin, date=days_ago(2))  # a later date moves the last contact
    assert Pairing.objects.get(pk=world["p1"].pk).last_activity_on == days_ago(2)
    update_activity(activity=log, by=city_admin, pairings=[world["p6"]])  # moved to another pairing
    assert Pairing.objects.get(pk=world["p1"].pk).last_activity_on is None
    check()
    withdraw_activity(activity=log, by=city_admin)
    assert Pairing.objects.get(pk=world["p6"].pk).last_activity_on is None
    check()
