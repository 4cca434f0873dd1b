import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from aixinmama.identity import make_id_number, mask_id_number
from teams.models import Team, Volunteer, VolunteerStatusChange

from ..conftest import make_staff
from .conftest import SafeguardingCheckFactory, TeamFactory, TeamMembershipFactory, VolunteerFactory

VOLUNTEER_PERMS = [
    "teams.view_volunteer",
    "teams.change_volunteer",
    "teams.add_volunteer",
    "teams.delete_volunteer",
    "teams.view_team",
    "teams.change_team",
    "teams.view_federation",
    "teams.add_safeguardingcheck",
    "teams.view_safeguardingcheck",
    "teams.view_volunteerstatuschange",
]


@pytest.fixture
def siming_coordinator(siming):
    return make_staff(siming, "siming-coordinator", permissions=VOLUNTEER_PERMS)


@pytest.fixture
def siming_supervisor(siming):
    return make_staff(siming, "siming-supervisor", permissions=[*VOLUNTEER_PERMS, "teams.view_full_identity"])


@pytest.fixture
def two_districts(siming_village, haicang_village):
    mine = VolunteerFactory(federation=siming_village, name="思明妈妈")
    theirs = VolunteerFactory(federation=haicang_village, name="海沧妈妈")
    return mine, theirs


CHANGELIST = "admin:teams_volunteer_changelist"


def test_changelist_masks_id_numbers_without_permission(client, siming_coordinator, two_districts):
    mine, _ = two_districts
    client.force_login(siming_coordinator)
    response = client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert response.status_code == 200
    assert mask_id_number(mine.id_number) in html
    assert mine.id_number not in html


def test_changelist_shows_full_id_with_permission(client, siming_supervisor, two_districts):
    mine, _ = two_districts
    client.force_login(siming_supervisor)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert mine.id_number in html


def test_change_form_masks_id_and_keeps_it_unchanged(client, siming_coordinator, two_districts):
    mine, _ = two_districts
    client.force_login(siming_coordinator)
    url = reverse("admin:teams_volunteer_change", args=[mine.pk])
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert mine.id_number not in html
    assert mask_id_number(mine.id_number) in html
    assert "id_number" not in response.context["adminform"].form.fields
    # A forged id_number in the POST is ignored: the field is not in the form.
    other_id = make_id_number("350203", datetime.date(1990, 1, 1), 3, "female")
    data = {
        "name": "改名妈妈",
        "sex": "female",
        "id_number": other_id,
        "mobile": mine.mobile,
        "federation": mine.federation_id,
        "capacity": 3,
        "safeguarding_checks-TOTAL_FORMS": 0,
        "safeguarding_checks-INITIAL_FORMS": 0,
        "status_changes-TOTAL_FORMS": 0,
        "status_changes-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    mine.refresh_from_db()
    assert mine.name == "改名妈妈"
    assert mine.id_number != other_id


def test_change_form_shows_editable_id_with_permission(client, siming_supervisor, two_districts):
    mine, _ = two_districts
    client.force_login(siming_supervisor)
    response = client.get(reverse("admin:teams_volunteer_change", args=[mine.pk]))
    assert "id_number" in response.context["adminform"].form.fields
    assert mine.id_number in response.content.decode()


def test_add_form_takes_id_number_and_opens_history(client, siming_coordinator, siming_village):
    client.force_login(siming_coordinator)
    new_id = make_id_number("350203", datetime.date(1988, 8, 8), 21, "female")
    response = client.post(
        reverse("admin:teams_volunteer_add"),
        {
            "name": "新妈妈",
            "sex": "female",
            "id_number": new_id.lower(),
            "mobile": "139 0600 8888",
            "federation": siming_village.pk,
            "capacity": 2,
            "safeguarding_checks-TOTAL_FORMS": 1,
            "safeguarding_checks-INITIAL_FORMS": 0,
            "safeguarding_checks-0-checked_on": timezone.localdate().isoformat(),
            "safeguarding_checks-0-result": "clear",
            "safeguarding_checks-0-valid_until": (timezone.localdate() + datetime.timedelta(days=365)).isoformat(),
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    volunteer = Volunteer.objects.get(id_number=new_id)
    assert volunteer.mobile == "13906008888"
    assert volunteer.birth_date == datetime.date(1988, 8, 8)
    assert volunteer.status == "applied"
    assert list(volunteer.status_changes.values_list("to_status", "changed_by")) == [("applied", siming_coordinator.pk)]
    assert volunteer.safeguarding_checks.get().checked_by == siming_coordinator


def test_add_form_reports_bad_id_in_chinese(client, siming_coordinator, siming_village):
    client.force_login(siming_coordinator)
    good = make_id_number("350203", datetime.date(1988, 8, 8), 21, "female")
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    response = client.post(
        reverse("admin:teams_volunteer_add"),
        {
            "name": "x",
            "sex": "female",
            "id_number": bad,
            "mobile": "13906008888",
            "federation": siming_village.pk,
            "capacity": 2,
            "safeguarding_checks-TOTAL_FORMS": 0,
            "safeguarding_checks-INITIAL_FORMS": 0,
            "status_changes-TOTAL_FORMS": 0,
            "status_changes-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "校验位错误" in str(response.context["adminform"].form.errors["id_number"])
    assert not Volunteer.objects.exists()


# --- scoping --------------------------------------------------------------------------


def test_district_staff_lists_only_own_volunteers(client, siming_coordinator, two_districts):
    mine, theirs = two_districts
    client.force_login(siming_coordinator)
    response = client.get(reverse(CHANGELIST))
    assert list(response.context["cl"].result_list) == [mine]
    # Searching for the other district's volunteer by name or full ID finds nothing.
    for term in (theirs.name, theirs.id_number, theirs.mobile):
        response = client.get(reverse(CHANGELIST), {"q": term})
        assert list(response.context["cl"].result_list) == [], term


def test_district_staff_cannot_open_other_district_volunteer(client, siming_coordinator, two_districts):
    _, theirs = two_districts
    client.force_login(siming_coordinator)
    for view in ("change", "history", "delete"):
        assert client.get(reverse(f"admin:teams_volunteer_{view}", args=[theirs.pk])).status_code == 404, view


@pytest.mark.parametrize(("model_name", "field_name"), [("team", "leader"), ("teammembership", "volunteer")])
def test_volunteer_autocomplete_is_scoped(client, siming_coordinator, two_districts, model_name, field_name):
    mine, theirs = two_districts
    client.force_login(siming_coordinator)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "teams", "model_name": model_name, "field_name": field_name, "term": "妈妈"},
    )
    assert response.status_code == 200
    ids = {int(item["id"]) for item in response.json()["results"]}
    assert ids == {mine.pk}


def test_search_by_full_id_number(client, siming_coordinator, two_districts):
    mine, _ = two_districts
    client.force_login(siming_coordinator)
    response = client.get(reverse(CHANGELIST), {"q": mine.id_number.lower()})
    assert list(response.context["cl"].result_list) == [mine]


# --- actions and filters --------------------------------------------------------------


def test_bulk_approve_action(client, siming_coordinator, siming_village, haicang_village):
    applicants = VolunteerFactory.create_batch(3, federation=siming_village, status="applied")
    active = VolunteerFactory(federation=siming_village, status="active")
    outsider = VolunteerFactory(federation=haicang_village, status="applied")
    client.force_login(siming_coordinator)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_selected", "_selected_action": [v.pk for v in [*applicants, active, outsider]]},
        follow=True,
    )
    assert response.status_code == 200
    assert "已通过 3 人的申请" in response.content.decode()
    assert set(Volunteer.objects.filter(pk__in=[v.pk for v in applicants]).values_list("status", flat=True)) == {
        "active"
    }
    outsider.refresh_from_db()
    assert outsider.status == "applied"  # outside the jurisdiction: not even selectable
    assert VolunteerStatusChange.objects.filter(to_status="active").count() == 3


def test_suspend_action_refuses_disallowed_transition(client, siming_coordinator, siming_village):
    applicant = VolunteerFactory(federation=siming_village, status="applied")
    client.force_login(siming_coordinator)
    response = client.post(
        reverse(CHANGELIST), {"action": "set_status_suspended", "_selected_action": [applicant.pk]}, follow=True
    )
    assert "不能将状态从“申请中”改为“暂停”" in response.content.decode()
    applicant.refresh_from_db()
    assert applicant.status == "applied"


def test_check_filter(client, siming_coordinator, siming_village):
    today = timezone.localdate()
    expiring = VolunteerFactory(federation=siming_village)
    SafeguardingCheckFactory(volunteer=expiring, valid_until=today + datetime.timedelta(days=10))
    expired = VolunteerFactory(federation=siming_village)
    SafeguardingCheckFactory(
        volunteer=expired,
        checked_on=today - datetime.timedelta(days=400),
        valid_until=today - datetime.timedelta(days=1),
    )
    fine = VolunteerFactory(federation=siming_village)
    SafeguardingCheckFactory(volunteer=fine)
    none = VolunteerFactory(federation=siming_village)
    client.force_login(siming_coordinator)
    for value, expected in (("expiring", expiring), ("expired", expired), ("none", none)):
        response = client.get(reverse(CHANGELIST), {"check": value})
        assert list(response.context["cl"].result_list) == [expected], value
    assert "即将到期" in client.get(reverse(CHANGELIST), {"check": "expiring"}).content.decode()


def test_source_tag_and_district_filters(client, siming_coordinator, siming_village, siming):
    from teams.models import SourceTag

    tagged = VolunteerFactory(federation=siming_village)
    tagged.source_tags.add(SourceTag.objects.get(code="executive"))
    VolunteerFactory(federation=siming_village)
    client.force_login(siming_coordinator)
    tag = SourceTag.objects.get(code="executive")
    response = client.get(reverse(CHANGELIST), {"source_tags__id__exact": tag.pk, "district_unit": siming.pk})
    assert list(response.context["cl"].result_list) == [tagged]


# --- a fixed number of queries per page ------------------------------------------------


def _fill(unit, n):
    vols = VolunteerFactory.create_batch(n, federation=unit)
    for v in vols:
        SafeguardingCheckFactory(volunteer=v)
    return vols


# Per request: session (read and the sliding-expiry save, in a savepoint), user, permissions; then
# the count, the page, and one query per filter's choices. Nothing per row.
VOLUNTEER_QUERY_BOUND = 16
TEAM_QUERY_BOUND = 14


@pytest.mark.parametrize("rows", [10, 200])
def test_volunteer_changelist_query_count_is_fixed(
    client, siming_coordinator, siming_village, rows, django_assert_max_num_queries
):
    _fill(siming_village, rows)
    client.force_login(siming_coordinator)
    with django_assert_max_num_queries(VOLUNTEER_QUERY_BOUND):
        response = client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == min(rows, 100)


@pytest.mark.parametrize("rows", [10, 200])
def test_team_changelist_query_count_is_fixed(
    client, siming_coordinator, siming_village, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        membership = TeamMembershipFactory(team__federation=siming_village)
        Team.objects.filter(pk=membership.team_id).update(leader=membership.volunteer)
    client.force_login(siming_coordinator)
    with django_assert_max_num_queries(TEAM_QUERY_BOUND):
        response = client.get(reverse("admin:teams_team_changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == min(rows, 100)
    assert {t.member_count for t in response.context["cl"].result_list} == {1}


def test_team_changelist_scoped(client, siming_coordinator, siming_village, haicang_village):
    mine = TeamFactory(federation=siming_village)
    theirs = TeamFactory(federation=haicang_village)
    client.force_login(siming_coordinator)
    assert list(client.get(reverse("admin:teams_team_changelist")).context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:teams_team_change", args=[theirs.pk])).status_code == 404
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "teams", "model_name": "project", "field_name": "team", "term": ""},
    )
    assert {int(r["id"]) for r in response.json()["results"]} == {mine.pk}


def test_specialty_team_without_category_refused_in_admin(client, siming_coordinator, siming_village):
    client.force_login(
        make_staff(siming_village.parent, "street-staff", permissions=["teams.add_team", "teams.view_team"])
    )
    response = client.post(
        reverse("admin:teams_team_add"),
        {
            "name": "无类别",
            "kind": "specialty",
            "category": "",
            "federation": siming_village.pk,
            "capacity": 0,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
            "projects-TOTAL_FORMS": 0,
            "projects-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["category"] == ["特色队伍必须选择特色类别。"]
    assert not Team.objects.exists()


def test_changelist_queries_do_not_grow_with_rows(client, siming_coordinator, siming_village):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(siming_coordinator)
    counts = []
    for rows in (10, 190):
        _fill(siming_village, rows)
        for _ in range(rows):
            TeamMembershipFactory(team__federation=siming_village)
        with CaptureQueriesContext(connection) as volunteers:
            client.get(reverse(CHANGELIST))
        with CaptureQueriesContext(connection) as teams:
            client.get(reverse("admin:teams_team_changelist"))
        counts.append((len(volunteers), len(teams)))
    assert counts[0] == counts[1]
