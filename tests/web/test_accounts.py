"""Staff open a volunteer's sign-in account and reset her password from the volunteer admin."""

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client

from teams.models import User, VolunteerStatus
from teams.services import create_volunteer_account, reset_volunteer_password
from tests.conftest import make_staff
from tests.pairing.conftest import eligible_volunteer

CHANGELIST = "/admin/teams/volunteer/"


@pytest.fixture
def coordinator(siming):
    return make_staff(siming, "siming-coordinator", permissions=["teams.view_volunteer", "teams.change_volunteer"])


def sign_in_works(username, password) -> bool:
    return Client().post("/login/", {"username": username, "password": password}).status_code == 302


@pytest.mark.django_db
def test_account_is_named_by_her_mobile_and_the_temporary_password_signs_her_in(places, coordinator):
    volunteer = eligible_volunteer(places["a1"], mobile="13712345678")
    user, password = create_volunteer_account(volunteer=volunteer, by=coordinator)
    volunteer.refresh_from_db()
    assert volunteer.user == user and user.username == "13712345678"
    assert not user.is_staff and not user.is_superuser
    assert len(password) >= 10 and user.check_password(password)
    assert sign_in_works("13712345678", password)


@pytest.mark.django_db
def test_a_taken_username_gets_a_suffix(places, coordinator):
    User.objects.create_user(username="13712345678", password="x")
    User.objects.create_user(username="13712345678-2", password="x")
    volunteer = eligible_volunteer(places["a1"], mobile="13712345678")
    user, _password = create_volunteer_account(volunteer=volunteer, by=coordinator)
    assert user.username == "13712345678-3"


@pytest.mark.django_db
def test_no_second_account_and_none_for_a_volunteer_who_left(places, coordinator):
    volunteer = eligible_volunteer(places["a1"])
    create_volunteer_account(volunteer=volunteer, by=coordinator)
    with pytest.raises(ValidationError, match="已有登录账号"):
        create_volunteer_account(volunteer=volunteer, by=coordinator)
    gone = eligible_volunteer(places["a1"], status=VolunteerStatus.LEFT)
    with pytest.raises(ValidationError, match="已退出"):
        create_volunteer_account(volunteer=gone, by=coordinator)


@pytest.mark.django_db
def test_reset_gives_a_new_password_and_lifts_a_lockout(places, coordinator):
    volunteer = eligible_volunteer(places["a1"], mobile="13712345679")
    _user, old = create_volunteer_account(volunteer=volunteer, by=coordinator)
    for _ in range(5):
        Client().post("/login/", {"username": "13712345679", "password": "wrong"})
    assert Client().post("/login/", {"username": "13712345679", "password": old}).status_code == 429
    new = reset_volunteer_password(volunteer=volunteer, by=coordinator)
    assert new != old
    assert sign_in_works("13712345679", new)
    assert not sign_in_works("13712345679", old)
    with pytest.raises(ValidationError, match="还没有登录账号"):
        reset_volunteer_password(volunteer=eligible_volunteer(places["a1"]), by=coordinator)


@pytest.mark.django_db
def test_admin_actions_show_the_temporary_password_once(client, places, coordinator):
    volunteer = eligible_volunteer(places["a1"], mobile="13712345670", name="周丽")
    client.force_login(coordinator)
    response = client.post(CHANGELIST, {"action": "create_accounts", "_selected_action": [volunteer.pk]})
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(shown) == 1 and "周丽:账号 13712345670,临时密码 " in shown[0]
    password = shown[0].split("临时密码 ")[1].split("(")[0]
    assert sign_in_works("13712345670", password)

    response = client.post(CHANGELIST, {"action": "reset_passwords", "_selected_action": [volunteer.pk]})
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    new = shown[-1].split("新临时密码 ")[1].split("(")[0]
    assert sign_in_works("13712345670", new) and not sign_in_works("13712345670", password)


@pytest.mark.django_db
def test_admin_actions_are_scoped_to_her_jurisdiction(client, places, coordinator):
    outsider = eligible_volunteer(places["h1"])  # Haicang
    client.force_login(coordinator)
    client.post(CHANGELIST, {"action": "create_accounts", "_selected_action": [outsider.pk]})
    outsider.refresh_from_db()
    assert outsider.user is None


@pytest.mark.django_db
def test_staff_without_change_permission_cannot_create_accounts(client, places, siming):
    viewer = make_staff(siming, "siming-viewer", permissions=["teams.view_volunteer"])
    volunteer = eligible_volunteer(places["a1"])
    client.force_login(viewer)
    client.post(CHANGELIST, {"action": "create_accounts", "_selected_action": [volunteer.pk]})
    volunteer.refresh_from_db()
    assert volunteer.user is None


@pytest.mark.django_db
def test_temporary_password_must_be_replaced_at_first_sign_in(places, coordinator):
    volunteer = eligible_volunteer(places["a1"], mobile="13712345678")
    user, password = create_volunteer_account(volunteer=volunteer, by=coordinator)
    client = Client()
    assert client.post("/login/", {"username": "13712345678", "password": password}).status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == "/password/"
    new = "my-own-long-secret-2026"
    changed = client.post("/password/", {"old_password": password, "new_password1": new, "new_password2": new})
    assert changed.status_code == 302
    assert client.get("/").status_code == 200
    user.refresh_from_db()
    assert not user.must_change_password

    temporary = reset_volunteer_password(volunteer=volunteer, by=coordinator)
    user.refresh_from_db()
    assert user.must_change_password and user.check_password(temporary)
