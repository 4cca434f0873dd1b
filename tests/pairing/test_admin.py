"""Admin pages for pairing: scoping (Siming staff vs Haicang data), forms through services, query counts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from children.models import Child
from pairing.models import ActivityLog, CadenceSetting, Donation, DonationAllocation, Donor, Pairing, ReviewStatus
from pairing.services import create_pairing, record_activity
from teams.models import TeamKind
from tests.pairing.conftest import ChildFactory, TeamFactory, eligible_volunteer

pytestmark = pytest.mark.django_db
T = timezone.localdate()


@pytest.fixture
def two_districts(places, city_admin):
    """A paired child with a log in Siming (a1) and in Haicang (h1)."""
    out = {}
    for key in ("a1", "h1"):
        child = ChildFactory(village=places[key], name=f"儿童{key}")
        mother = eligible_volunteer(places[key], name=f"妈妈{key}")
        pairing = create_pairing(child=child, volunteer=mother, by=city_admin, start_date=T - datetime.timedelta(20))
        log = record_activity(by=city_admin, volunteer=mother, pairings=[pairing], date=T, kind="home_visit")
        out[key] = {"child": child, "mother": mother, "pairing": pairing, "log": log}
    return out


def login(client, user):
    client.force_login(user)
    return client


# --- pairings ----------------------------------------------------------------------------


def test_pairing_changelist_is_scoped(client, siming_pairing_staff, two_districts):
    response = login(client, siming_pairing_staff).get(reverse("admin:pairing_pairing_changelist"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "儿童a1" in content and "儿童h1" not in content


def test_other_districts_pairing_is_not_found(client, siming_pairing_staff, two_districts):
    login(client, siming_pairing_staff)
    url = reverse("admin:pairing_pairing_change", args=[two_districts["h1"]["pairing"].pk])
    assert client.get(url).status_code == 404
    own = reverse("admin:pairing_pairing_change", args=[two_districts["a1"]["pairing"].pk])
    assert client.get(own).status_code == 200


def test_pairings_cannot_be_deleted_in_admin(client, city_admin, two_districts):
    url = reverse("admin:pairing_pairing_delete", args=[two_districts["a1"]["pairing"].pk])
    assert login(client, city_admin).get(url).status_code == 403


def test_add_pairing_through_the_admin(client, siming_pairing_staff, places):
    child = ChildFactory(village=places["a1"])
    mother = eligible_volunteer(places["a2"])
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_pairing_add"),
        {"child": child.pk, "volunteer": mother.pk, "team": "", "start_date": T.isoformat(), "reason": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pairing = Pairing.objects.get(child=child)
    assert pairing.volunteer == mother and pairing.created_by == siming_pairing_staff


def test_add_pairing_rule_error_is_a_form_error(client, siming_pairing_staff, places):
    child = ChildFactory(village=places["a1"])
    mother = eligible_volunteer(places["a1"], capacity=0)
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_pairing_add"),
        {"child": child.pk, "volunteer": mother.pk, "team": "", "start_date": T.isoformat(), "reason": ""},
    )
    assert response.status_code == 200
    assert "达到可结对人数上限" in response.content.decode()
    assert not Pairing.objects.exists()


def test_siming_staff_cannot_pick_a_haicang_child(client, siming_pairing_staff, places):
    child = ChildFactory(village=places["h1"])
    mother = eligible_volunteer(places["a1"])
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_pairing_add"),
        {"child": child.pk, "volunteer": mother.pk, "team": "", "start_date": T.isoformat(), "reason": ""},
    )
    assert response.status_code == 200 and not Pairing.objects.exists()


def test_end_pairing_from_the_change_form(client, siming_pairing_staff, two_districts):
    pairing = two_districts["a1"]["pairing"]
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_pairing_change", args=[pairing.pk]),
        {"end_reason": "family_request", "end_note": "家庭搬迁"},
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.status == "ended" and pairing.ended_by == siming_pairing_staff


def test_transfer_from_the_change_form(client, siming_pairing_staff, two_districts, places):
    pairing = two_districts["a1"]["pairing"]
    other = eligible_volunteer(places["a2"])
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_pairing_change", args=[pairing.pk]), {"transfer_volunteer": other.pk}
    )
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert pairing.status == "ended" and pairing.end_reason == "reassigned"
    assert Pairing.objects.active().get(child=pairing.child).volunteer == other


def _bulk_children(village, count, **kw):
    Child.objects.bulk_create(
        [
            ChildFactory.build(village=village, birth_date=datetime.date(2010, 1, 1) + datetime.timedelta(i), **kw)
            for i in range(count)
        ],
        batch_size=500,
    )
    return Child.objects.filter(village=village)


@pytest.mark.parametrize("count", [10, 1000])
def test_pairing_changelist_query_count(client, siming_pairing_staff, places, count, django_assert_max_num_queries):
    team = TeamFactory(federation=places["a1"], capacity=count)
    Pairing.objects.bulk_create([Pairing(child=c, team=team) for c in _bulk_children(places["a1"], count)])
    login(client, siming_pairing_staff)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:pairing_pairing_changelist"))
    assert response.status_code == 200


# --- suggestions and bulk pairing ------------------------------------------------------------


def test_suggestions_page_is_scoped_and_pairs_in_one_click(client, siming_pairing_staff, places):
    login(client, siming_pairing_staff)
    haicang_child = ChildFactory(village=places["h1"])
    assert client.get(reverse("admin:pairing_suggest", args=[haicang_child.pk])).status_code == 404
    child = ChildFactory(village=places["a1"])
    mother = eligible_volunteer(places["a1"], name="王美华")
    url = reverse("admin:pairing_suggest", args=[child.pk])
    response = client.get(url)
    assert response.status_code == 200 and "王美华" in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
    response = client.post(url, {"kind": "volunteer", "pk": mother.pk})
    assert response.status_code == 302
    assert Pairing.objects.active().filter(child=child, volunteer=mother).exists()


def test_bulk_pair_village_with_community_team(client, siming_pairing_staff, places, community_team):
    kids = [ChildFactory(village=places["a1"]) for _ in range(4)]
    login(client, siming_pairing_staff)
    response = client.post(reverse("admin:pairing_bulk_pair", args=[places["a1"].pk]), follow=True)
    assert response.status_code == 200
    assert Pairing.objects.active().filter(team=community_team).count() == 3  # capacity 3
    assert "另有 1 名儿童" in response.content.decode()
    assert {p.child_id for p in Pairing.objects.all()} < {k.pk for k in kids}
    # Haicang village: not found for Siming staff; GET is not allowed to write.
    assert client.post(reverse("admin:pairing_bulk_pair", args=[places["h1"].pk])).status_code == 404
    assert client.get(reverse("admin:pairing_bulk_pair", args=[places["a1"].pk])).status_code == 404


# --- coverage ----------------------------------------------------------------------------------


def test_coverage_page_starts_at_the_users_unit(client, siming_pairing_staff, two_districts, places):
    response = login(client, siming_pairing_staff).get(reverse("admin:pairing_coverage"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "结对覆盖情况" in content and "思明区" in content
    assert places["street_a"].name in content


def test_district_user_cannot_open_another_district(client, siming_pairing_staff, haicang, xiamen, two_districts):
    login(client, siming_pairing_staff)
    assert client.get(reverse("admin:pairing_coverage_unit", args=[haicang.pk])).status_code == 404
    assert client.get(reverse("admin:pairing_coverage_unit", args=[xiamen.pk])).status_code == 404
    assert client.get(reverse("admin:pairing_unpaired", args=[haicang.pk])).status_code == 404


def test_city_coverage_drills_down(client, city_admin, two_districts, siming, places):
    login(client, city_admin)
    assert "思明区" in client.get(reverse("admin:pairing_coverage")).content.decode()
    for unit in (siming, places["street_a"], places["a1"]):
        response = client.get(reverse("admin:pairing_coverage_unit", args=[unit.pk]))
        assert response.status_code == 200
        assert response.context["coverage"].total.paired == 1


def test_unpaired_list(client, siming_pairing_staff, places, two_districts):
    ChildFactory(village=places["a1"], name="没人管")
    response = login(client, siming_pairing_staff).get(reverse("admin:pairing_unpaired", args=[places["a1"].pk]))
    content = response.content.decode()
    assert "没人管" in content and "儿童a1" not in content


@pytest.mark.parametrize("count", [10, 1000])
def test_coverage_page_query_count(client, city_admin, places, xiamen, count, django_assert_max_num_queries):
    _bulk_children(places["a1"], count, risk_grade="red")
    login(client, city_admin)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("admin:pairing_coverage_unit", args=[xiamen.pk])).status_code == 200


# --- activity logs -------------------------------------------------------------------------------


def test_activity_log_changelist_is_scoped(client, siming_pairing_staff, two_districts):
    response = login(client, siming_pairing_staff).get(reverse("admin:pairing_activitylog_changelist"))
    content = response.content.decode()
    assert "妈妈a1" in content and "妈妈h1" not in content
    url = reverse("admin:pairing_activitylog_change", args=[two_districts["h1"]["log"].pk])
    assert client.get(url).status_code == 404


def test_bulk_approve_action_only_reaches_own_jurisdiction(client, siming_pairing_staff, two_districts):
    own, other = two_districts["a1"]["log"], two_districts["h1"]["log"]
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_activitylog_changelist"),
        {"action": "approve_selected", "_selected_action": [own.pk, other.pk]},
    )
    assert response.status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.status == ReviewStatus.APPROVED and own.reviewed_by == siming_pairing_staff
    assert other.status == ReviewStatus.SUBMITTED


def test_return_from_the_change_form_requires_comment(client, siming_pairing_staff, two_districts):
    log = two_districts["a1"]["log"]
    url = reverse("admin:pairing_activitylog_change", args=[log.pk])
    data = {
        "pairings": [two_districts["a1"]["pairing"].pk],
        "date": log.date.isoformat(),
        "kind": log.kind,
        "mode": log.mode,
        "duration_minutes": log.duration_minutes,
        "children_reached": log.children_reached,
        "parents_reached": 0,
        "review": "return",
        "review_note": "",
    }
    login(client, siming_pairing_staff)
    response = client.post(url, data)
    assert response.status_code == 200 and "退回时须填写审核意见" in response.content.decode()
    response = client.post(url, {**data, "review_note": "请补充地点"})
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.status == ReviewStatus.RETURNED and log.review_comment == "请补充地点"


def test_future_dated_log_in_admin_is_a_form_error(client, siming_pairing_staff, two_districts):
    response = login(client, siming_pairing_staff).post(
        reverse("admin:pairing_activitylog_add"),
        {
            "volunteer": two_districts["a1"]["mother"].pk,
            "pairings": [two_districts["a1"]["pairing"].pk],
            "date": (T + datetime.timedelta(days=2)).isoformat(),
            "kind": "study",
            "mode": "offline",
            "duration_minutes": 60,
            "children_reached": 1,
            "parents_reached": 0,
        },
    )
    assert response.status_code == 200 and "活动日期不能晚于今天" in response.content.decode()
    assert ActivityLog.objects.count() == 2


@pytest.mark.parametrize("count", [10, 1000])
def test_activity_log_changelist_query_count(client, city_admin, places, count, django_assert_max_num_queries):
    team = TeamFactory(federation=places["a1"], kind=TeamKind.COMMUNITY, category="", capacity=count)
    Pairing.objects.bulk_create([Pairing(child=c, team=team) for c in _bulk_children(places["a1"], count)])
    logs = ActivityLog.objects.bulk_create(
        [ActivityLog(team=team, federation=places["a1"], date=T, kind="study") for _ in range(count)]
    )
    pairings = list(Pairing.objects.all())
    ActivityLog.pairings.through.objects.bulk_create(
        [
            ActivityLog.pairings.through(activitylog_id=log.pk, pairing_id=p.pk)
            for log, p in zip(logs, pairings, strict=True)
        ]
    )
    login(client, city_admin)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("admin:pairing_activitylog_changelist")).status_code == 200


# --- cadence --------------------------------------------------------------------------------------


def test_only_city_staff_edit_the_cadence(client, siming_pairing_staff, city_staff):
    red = CadenceSetting.objects.get(risk_grade="red")
    url = reverse("admin:pairing_cadencesetting_change", args=[red.pk])
    login(client, siming_pairing_staff)
    assert client.post(url, {"days": 7}).status_code == 403
    red.refresh_from_db()
    assert red.days == 14
    login(client, city_staff)
    assert client.post(url, {"days": 7}).status_code == 302
    red.refresh_from_db()
    assert red.days == 7


# --- donations -----------------------------------------------------------------------------------


@pytest.fixture
def donations(siming, haicang, xiamen):
    d1 = Donor.objects.create(kind="enterprise", name="思明区新东方教育培训学校", federation=siming)
    d2 = Donor.objects.create(kind="enterprise", name="海沧某公司", federation=haicang)
    cash = Donation.objects.create(
        donor=d1,
        date=T,
        kind="cash",
        amount=Decimal("100000.00"),
        receiving_body="市妇女儿童发展基金会",
        federation=siming,
    )
    gifts = Donation.objects.create(
        donor=d2,
        date=T,
        kind="in_kind",
        items="爱心礼包",
        quantity=50,
        estimated_value=Decimal("5000"),
        receiving_unit=haicang,
        federation=haicang,
    )
    return {"cash": cash, "gifts": gifts}


def test_donation_changelist_and_report_are_scoped(client, siming_pairing_staff, donations):
    login(client, siming_pairing_staff)
    content = client.get(reverse("admin:pairing_donation_changelist")).content.decode()
    assert "新东方" in content and "海沧某公司" not in content
    assert client.get(reverse("admin:pairing_donation_change", args=[donations["gifts"].pk])).status_code == 404
    report = client.get(reverse("admin:pairing_donation_report"))
    assert report.status_code == 200
    text = report.content.decode()
    assert "新东方" in text and "海沧某公司" not in text
    assert [(r["donor__name"], r["total"]) for r in report.context["totals"]["by_donor"]] == [
        ("思明区新东方教育培训学校", Decimal("100000.00"))
    ]


def test_allocation_over_the_donation_is_a_form_error(client, siming_pairing_staff, donations, places):
    login(client, siming_pairing_staff)
    url = reverse("admin:pairing_donationallocation_add")
    data = {"donation": donations["cash"].pk, "date": T.isoformat(), "village": places["a1"].pk, "amount": "60000"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.status_code == 200 and "超过捐赠金额" in response.content.decode()
    assert DonationAllocation.objects.count() == 1
    # A Haicang donation cannot be chosen by Siming staff.
    response = client.post(url, {**data, "donation": donations["gifts"].pk, "amount": "", "quantity": 1})
    assert response.status_code == 200 and DonationAllocation.objects.count() == 1


def test_child_changelist_bulk_pairing_action_is_scoped(client, siming_pairing_staff, places, community_team):
    kids = [ChildFactory(village=places["a1"]) for _ in range(2)]
    haicang_team = TeamFactory(federation=places["h1"], kind=TeamKind.COMMUNITY, category="", capacity=5)
    haicang_kid = ChildFactory(village=places["h1"])
    response = login(client, siming_pairing_staff).post(
        reverse("admin:children_child_changelist"),
        {"action": "pair_villages_with_community_teams", "_selected_action": [kids[0].pk, haicang_kid.pk]},
    )
    assert response.status_code == 302
    assert set(Pairing.objects.filter(team=community_team).values_list("child_id", flat=True)) == {k.pk for k in kids}
    assert not Pairing.objects.filter(team=haicang_team).exists()


def test_child_page_links_to_suggestions(client, siming_pairing_staff, places, staff_factory):
    child = ChildFactory(village=places["a1"])
    user = staff_factory(places["a1"], "a1-staff", permissions=["children.view_child", "pairing.view_pairing"])
    response = login(client, user).get(reverse("admin:children_child_change", args=[child.pk]))
    assert reverse("admin:pairing_suggest", args=[child.pk]) in response.content.decode()
