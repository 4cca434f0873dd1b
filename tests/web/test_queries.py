"""我的结对 and 我的记录 run a fixed number of queries whatever the number of children or logs."""

import datetime

import pytest
from django.utils import timezone

from pairing.services import create_pairing
from pairing.volunteer_services import my_pairings

from .conftest import child_in

# Session, user, volunteer, then the page's own reads (home: cadence, pairings, village, needs,
# guardians); the session save at the end of the request and its savepoints (13 in all today).
HOME_MAX_QUERIES = 14
LOGS_MAX_QUERIES = 14


def add_pairings(world, n):
    start = timezone.localdate() - datetime.timedelta(days=30)
    for i in range(n):
        child = child_in(world.village, f"测试儿童{i}", risk=["red", "orange", "yellow", "green"][i % 4])
        child.needs.add("study", "psychological")
        create_pairing(child=child, volunteer=world.alice, by=world.staff, start_date=start)
        if i % 2:
            world.log(child=child)


@pytest.mark.parametrize("extra", [0, 28])
@pytest.mark.django_db
def test_home_runs_a_fixed_number_of_queries(alice_client, world, extra, django_assert_max_num_queries):
    add_pairings(world, extra)  # 2 direct pairings + extra (and the team's one)
    assert len(my_pairings(world.alice)) == 3 + extra
    with django_assert_max_num_queries(HOME_MAX_QUERIES):
        response = alice_client.get("/")
    assert response.content.decode().count('class="card child-card') == 3 + extra


@pytest.mark.parametrize("count", [2, 30])
@pytest.mark.django_db
def test_my_logs_runs_a_fixed_number_of_queries(alice_client, world, count, django_assert_max_num_queries):
    for i in range(count):
        world.log(child=[world.alice_red, world.alice_green][i % 2], place=f"地点{i}")
    world.log(team=world.team)
    with django_assert_max_num_queries(LOGS_MAX_QUERIES):
        response = alice_client.get("/logs/")
    assert response.content.decode().count('class="card log-card"') == count + 1


@pytest.mark.parametrize("count", [2, 30])
@pytest.mark.django_db
def test_log_form_runs_a_fixed_number_of_queries(alice_client, world, count, django_assert_max_num_queries):
    add_pairings(world, count)
    with django_assert_max_num_queries(LOGS_MAX_QUERIES):
        response = alice_client.get("/log/")
    assert response.status_code == 200
