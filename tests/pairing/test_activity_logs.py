"""Activity logs (帮扶记录): who may log what, dates, review (approve, return, bulk), edit and withdraw."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pairing.models import ActivityKind, ActivityLog, ReviewStatus
from pairing.services import (
    approve_activities,
    approve_activity,
    create_pairing,
    record_activity,
    return_activity,
    update_activity,
    withdraw_activity,
)
from teams.models import TeamKind
from tests.pairing.conftest import ChildFactory, TeamFactory, TeamMembershipFactory, eligible_volunteer
from tests.teams.conftest import ProjectFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture
def paired(places, siming_staff):
    child = ChildFactory(village=places["a1"], name="林小雨")
    volunteer = eligible_volunteer(places["a1"])
    pairing = create_pairing(
        child=child, volunteer=volunteer, by=siming_staff, start_date=TODAY - datetime.timedelta(days=60)
    )
    return pairing


def test_volunteer_logs_a_home_visit_for_her_child(paired, siming_staff):
    log = record_activity(
        by=siming_staff,
        volunteer=paired.volunteer,
        children=[paired.child],
        date=YESTERDAY,
        kind=ActivityKind.HOME_VISIT,
        parents_reached=2,
        place="家中",
    )
    assert log.status == ReviewStatus.SUBMITTED
    assert list(log.pairings.all()) == [paired]
    assert log.children_reached == 1  # at least the children listed
    assert log.federation == paired.volunteer.federation  # scoped by the doer's unit


def test_future_date_is_rejected(paired, siming_staff):
    with pytest.raises(ValidationError) as exc:
        record_activity(
            by=siming_staff,
            volunteer=paired.volunteer,
            pairings=[paired],
            date=TODAY + datetime.timedelta(days=1),
            kind=ActivityKind.STUDY,
        )
    assert "不能晚于今天" in " ".join(exc.value.message_dict["date"])
    assert not ActivityLog.objects.exists()


def test_date_before_pairing_started_is_rejected(paired, siming_staff):
    with pytest.raises(ValidationError) as exc:
        record_activity(
            by=siming_staff,
            volunteer=paired.volunteer,
            pairings=[paired],
            date=paired.start_date - datetime.timedelta(days=1),
            kind=ActivityKind.STUDY,
        )
    assert "早于林小雨的结对日期" in " ".join(exc.value.message_dict["date"])


def test_child_not_paired_with_the_doer_is_rejected(paired, places, siming_staff):
    stranger = ChildFactory(village=places["a1"], name="陈小海")
    with pytest.raises(ValidationError) as exc:
        record_activity(
            by=siming_staff, volunteer=paired.volunteer, children=[stranger], date=YESTERDAY, kind=ActivityKind.STUDY
        )
    assert "陈小海没有与本人或本队伍的有效结对" in " ".join(exc.value.message_dict["pairings"])


def test_someone_elses_pairing_is_rejected(paired, places, siming_staff):
    other = eligible_volunteer(places["a1"])
    with pytest.raises(ValidationError) as exc:
        record_activity(by=siming_staff, volunteer=other, pairings=[paired], date=YESTERDAY, kind=ActivityKind.STUDY)
    assert "不属于本人或本队伍" in " ".join(exc.value.message_dict["pairings"])


def test_log_without_children_must_be_a_team_group_activity(paired, places, siming_staff):
    with pytest.raises(ValidationError) as exc:
        record_activity(by=siming_staff, volunteer=paired.volunteer, date=YESTERDAY, kind=ActivityKind.FESTIVAL)
    assert "集体活动" in " ".join(exc.value.message_dict["pairings"])
    with pytest.raises(ValidationError) as exc:
        record_activity(
            by=siming_staff, volunteer=paired.volunteer, is_group=True, date=YESTERDAY, kind=ActivityKind.FESTIVAL
        )
    assert "集体活动须由队伍填报" in " ".join(exc.value.message_dict["is_group"])


def test_team_group_activity_under_its_project(places, siming_staff):
    team = TeamFactory(federation=places["street_a"])
    project = ProjectFactory(team=team, name="关爱小候鸟")
    log = record_activity(
        by=siming_staff,
        team=team,
        is_group=True,
        project=project,
        date=YESTERDAY,
        kind=ActivityKind.CULTURE,
        children_reached=40,
        parents_reached=25,
        mode="online",
    )
    assert (log.children_reached, log.parents_reached, log.project) == (40, 25, project)
    other_project = ProjectFactory(team=TeamFactory(federation=places["a1"]))
    with pytest.raises(ValidationError) as exc:
        record_activity(
            by=siming_staff, team=team, is_group=True, project=other_project, date=YESTERDAY, kind=ActivityKind.CULTURE
        )
    assert "不属于该队伍" in " ".join(exc.value.message_dict["project"])


def test_team_member_may_log_for_her_teams_pairing(places, siming_staff):
    team = TeamFactory(federation=places["a1"], kind=TeamKind.COMMUNITY, category="")
    member = TeamMembershipFactory(team=team).volunteer
    child = ChildFactory(village=places["a1"])
    pairing = create_pairing(child=child, team=team, by=siming_staff, start_date=YESTERDAY)
    log = record_activity(by=member.user, volunteer=member, children=[child], date=TODAY, kind=ActivityKind.DAILY_LIFE)
    assert list(log.pairings.all()) == [pairing]


def _log(paired, by, **kw):
    return record_activity(by=by, volunteer=paired.volunteer, pairings=[paired], date=YESTERDAY, kind="study", **kw)


def test_return_needs_a_comment_and_edit_resubmits(paired, siming_staff):
    log = _log(paired, siming_staff)
    with pytest.raises(ValidationError) as exc:
        return_activity(activity=log, by=siming_staff, comment=" ")
    assert "审核意见" in " ".join(exc.value.message_dict["review_comment"])
    return_activity(activity=log, by=siming_staff, comment="请补充活动内容")
    assert (log.status, log.review_comment, log.reviewed_by) == (ReviewStatus.RETURNED, "请补充活动内容", siming_staff)
    update_activity(activity=log, by=siming_staff, description="辅导数学作业一小时")
    log.refresh_from_db()
    assert log.status == ReviewStatus.SUBMITTED and log.description == "辅导数学作业一小时"


def test_approved_log_cannot_be_edited_or_withdrawn(paired, siming_staff):
    log = approve_activity(activity=_log(paired, siming_staff), by=siming_staff)
    assert log.status == ReviewStatus.APPROVED and log.reviewed_at is not None
    with pytest.raises(ValidationError):
        update_activity(activity=log, by=siming_staff, description="x")
    with pytest.raises(ValidationError):
        withdraw_activity(activity=log, by=siming_staff)


def test_withdraw_keeps_the_record_but_it_no_longer_counts(paired, siming_staff):
    log = _log(paired, siming_staff)
    withdraw_activity(activity=log, by=siming_staff)
    log.refresh_from_db()
    assert log.status == ReviewStatus.WITHDRAWN
    assert not ActivityLog.objects.counting().exists()


def test_bulk_approve_only_touches_submitted(paired, siming_staff, django_assert_max_num_queries):
    logs = [_log(paired, siming_staff) for _ in range(3)]
    return_activity(activity=logs[0], by=siming_staff, comment="缺少地点")
    with django_assert_max_num_queries(4):
        result = approve_activities(ActivityLog.objects.all(), by=siming_staff)
    assert result == {"approved": 2, "skipped": 1}
    assert sorted(ActivityLog.objects.values_list("status", flat=True)) == ["approved", "approved", "returned"]
