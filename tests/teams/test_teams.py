import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from teams.models import Project, Team, TeamCategory, TeamKind, TeamMembership

from .conftest import TeamFactory, TeamMembershipFactory, VolunteerFactory


def test_specialty_team_without_category_refused_by_database(db, siming):
    # A direct INSERT, no full_clean: only the database constraint stands in the way.
    with pytest.raises(IntegrityError, match="team_specialty_requires_category"), transaction.atomic():
        Team.objects.create(name="无类别特色队", kind=TeamKind.SPECIALTY, category="", federation=siming)
    assert not Team.objects.filter(name="无类别特色队").exists()


def test_unknown_category_refused_by_database(db, siming):
    with pytest.raises(IntegrityError), transaction.atomic():
        Team.objects.create(name="x", kind=TeamKind.SPECIALTY, category="astrology", federation=siming)


def test_community_team_needs_no_category(db, siming_village):
    team = Team(name="社区爱心妈妈队", kind=TeamKind.COMMUNITY, federation=siming_village)
    team.full_clean()
    team.save()
    assert team.category == ""


def test_specialty_team_without_category_gets_form_message(db, siming):
    team = Team(name="x", kind=TeamKind.SPECIALTY, federation=siming)
    with pytest.raises(ValidationError) as exc:
        team.full_clean()
    assert exc.value.message_dict["category"] == ["特色队伍必须选择特色类别。"]


def test_one_active_membership_per_volunteer_and_team(db, siming):
    membership = TeamMembershipFactory(team__federation=siming)
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembership.objects.create(team=membership.team, volunteer=membership.volunteer)
    # After leaving, she may join again.
    membership.left_on = membership.joined_on
    membership.save()
    TeamMembership.objects.create(team=membership.team, volunteer=membership.volunteer)
    assert TeamMembership.objects.filter(team=membership.team).current().count() == 1
    assert Team.objects.with_member_count().get(pk=membership.team.pk).member_count == 1


def test_membership_cannot_end_before_it_starts(db, siming):
    team = TeamFactory(federation=siming)
    membership = TeamMembership(
        team=team,
        volunteer=VolunteerFactory(federation=siming),
        joined_on=datetime.date(2024, 5, 1),
        left_on=datetime.date(2024, 4, 1),
    )
    with pytest.raises(ValidationError):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()


def test_project_dates_checked_in_database(db, siming):
    team = TeamFactory(federation=siming)
    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(
            team=team, name="关爱小候鸟", starts_on=datetime.date(2024, 7, 1), ends_on=datetime.date(2024, 6, 1)
        )
    Project.objects.create(team=team, name="关爱小候鸟", starts_on=datetime.date(2024, 7, 1))


def test_team_and_project_querysets_scope_by_owning_unit(db, siming, haicang, siming_village):
    mine = TeamFactory(federation=siming_village, category=TeamCategory.LEGAL_AID)
    theirs = TeamFactory(federation=haicang)
    Project.objects.create(team=mine, name="A")
    Project.objects.create(team=theirs, name="B")
    TeamMembershipFactory(team=theirs)
    assert list(Team.objects.within(siming)) == [mine]
    assert list(Project.objects.within(siming).values_list("name", flat=True)) == ["A"]
    assert not TeamMembership.objects.within(siming).exists()
    assert TeamMembership.objects.within(haicang).count() == 1
