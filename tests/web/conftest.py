"""Fixtures for the volunteers' pages: three volunteers with accounts in one Siming village.

- alice: paired directly with 林小雨 (red risk) and 王小明 (green); leader of a community team
  that is paired with 陈小花 and runs the project 周末读书会.
- bob: paired with 李小军 (the child alice must never see) and a member of no team.
- carol: a member (not leader) of alice's team, with no direct pairing.
"""

import datetime
from dataclasses import dataclass

import pytest

from children.models import Child
from pairing.models import ActivityLog, Pairing
from pairing.services import create_pairing, record_activity
from teams.models import MemberRole, Project, Team, User, Volunteer
from tests.children.conftest import ChildFactory, GuardianFactory
from tests.pairing.conftest import eligible_volunteer, places  # noqa: F401 - fixture
from tests.teams.conftest import ProjectFactory, TeamFactory, TeamMembershipFactory

PASSWORD = "Aixin-mama-2025"


def with_account(volunteer: Volunteer, username: str) -> Volunteer:
    volunteer.user = User.objects.create_user(username=username, password=PASSWORD)
    volunteer.save(update_fields=["user"])
    return volunteer


def child_in(village, name, *, risk="green", guardian=True, birth=datetime.date(2015, 6, 1)) -> Child:
    child = ChildFactory(village=village, name=name, risk_grade=risk, birth_date=birth)
    if guardian:
        GuardianFactory(child=child, name=f"{name[0]}妈妈", relation="mother")
    return child


@dataclass
class World:
    alice: Volunteer
    bob: Volunteer
    carol: Volunteer
    team: Team
    project: Project
    alice_red: Child
    alice_green: Child
    team_child: Child
    bob_child: Child
    alice_pairing: Pairing
    bob_pairing: Pairing
    team_pairing: Pairing
    staff: User
    village: object

    def log(self, volunteer=None, *, child=None, team=None, **fields) -> ActivityLog:
        """File a log through the service (as the volunteer's own form would)."""
        fields.setdefault("date", datetime.date.today() - datetime.timedelta(days=1))
        fields.setdefault("kind", "home_visit")
        if team is not None:
            return record_activity(by=None, team=team, is_group=True, **fields)
        volunteer = volunteer or self.alice
        return record_activity(by=volunteer.user, volunteer=volunteer, children=[child or self.alice_red], **fields)


@pytest.fixture
def world(places, city_admin):  # noqa: F811 - fixture
    village = places["a1"]
    start = datetime.date.today() - datetime.timedelta(days=60)
    alice = with_account(eligible_volunteer(village, name="张爱华", mobile="13800000001", capacity=40), "alice")
    bob = with_account(eligible_volunteer(village, name="李秀兰", mobile="13800000002", capacity=5), "bob")
    carol = with_account(eligible_volunteer(village, name="陈美玲", mobile="13800000003", capacity=5), "carol")
    team = TeamFactory(federation=village, kind="community", category="", capacity=10, name="阳光爱心妈妈队")
    TeamMembershipFactory(team=team, volunteer=alice, role=MemberRole.LEADER)
    TeamMembershipFactory(team=team, volunteer=carol, role=MemberRole.MEMBER)
    project = ProjectFactory(team=team, name="周末读书会")
    alice_red = child_in(village, "林小雨", risk="red", birth=datetime.date(2016, 3, 8))
    alice_green = child_in(village, "王小明", risk="green")
    team_child = child_in(village, "陈小花", risk="yellow")
    bob_child = child_in(village, "李小军", risk="orange")
    pair = create_pairing
    alice_pairing = pair(child=alice_red, volunteer=alice, by=city_admin, start_date=start)
    pair(child=alice_green, volunteer=alice, by=city_admin, start_date=start)
    bob_pairing = pair(child=bob_child, volunteer=bob, by=city_admin, start_date=start)
    team_pairing = pair(child=team_child, team=team, by=city_admin, start_date=start)
    return World(
        alice=alice,
        bob=bob,
        carol=carol,
        team=team,
        project=project,
        alice_red=alice_red,
        alice_green=alice_green,
        team_child=team_child,
        bob_child=bob_child,
        alice_pairing=alice_pairing,
        bob_pairing=bob_pairing,
        team_pairing=team_pairing,
        staff=city_admin,
        village=village,
    )


@pytest.fixture
def alice_client(client, world):
    client.force_login(world.alice.user)
    return client


@pytest.fixture
def bob_client(client, world):
    client.force_login(world.bob.user)
    return client
