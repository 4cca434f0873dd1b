"""Sign-in, sign-out, password change; staff and accounts without a volunteer record."""

import pytest
from django.test import Client

from teams.models import User
from tests.conftest import make_staff

from .conftest import PASSWORD

FAILED = "手机号码/用户名或密码不正确"


def sign_in(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_volunteer_signs_in_with_her_mobile_number(client, world):
    response = sign_in(client, "138 0000 0001", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"
    assert "林小雨" in client.get("/").content.decode()


@pytest.mark.django_db
def test_volunteer_signs_in_with_her_username_and_goes_to_next(client, world):
    response = client.post("/login/?next=/logs/", {"username": "alice", "password": PASSWORD, "next": "/logs/"})
    assert response.status_code == 302
    assert response.url == "/logs/"


@pytest.mark.django_db
def test_unknown_account_and_wrong_password_get_the_same_answer(world):
    unknown = sign_in(Client(), "13999999999", PASSWORD)
    wrong = sign_in(Client(), "13800000001", "not-her-password")
    wrong_username = sign_in(Client(), "alice", "not-her-password")
    for response in (unknown, wrong, wrong_username):
        assert response.status_code == 200
        assert FAILED in response.content.decode()

    # The same page apart from the CSRF token and the echoed username.
    def strip(r, typed):
        html = r.content.decode().replace(typed, "")
        return "\n".join(line for line in html.splitlines() if "csrfmiddlewaretoken" not in line)

    assert strip(unknown, "13999999999") == strip(wrong, "13800000001")


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in(client, world):
    response = client.get("/logs/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/logs/"


@pytest.mark.django_db
def test_staff_signing_in_on_the_volunteer_page_go_to_the_admin(client, siming):
    make_staff(siming, "siming-worker")
    response = sign_in(client, "siming-worker", "correct horse battery staple")
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert client.get("/").url == "/admin/"


@pytest.mark.django_db
def test_account_without_volunteer_record_sees_a_polite_page(client, db):
    User.objects.create_user(username="orphan-account", password=PASSWORD)
    sign_in(client, "orphan-account", PASSWORD)
    response = client.get("/")
    assert response.status_code == 403
    assert "还没有关联爱心妈妈档案" in response.content.decode()


@pytest.mark.django_db
def test_sign_out_is_a_post(alice_client):
    assert alice_client.get("/logout/").status_code == 405
    response = alice_client.post("/logout/")
    assert response.status_code == 302
    assert response.url == "/login/"
    assert alice_client.get("/").status_code == 302


@pytest.mark.django_db
def test_volunteer_changes_her_password(client, world):
    sign_in(client, "alice", PASSWORD)
    bad = client.post(
        "/password/", {"old_password": "wrong", "new_password1": "Xin-mima-778", "new_password2": "Xin-mima-778"}
    )
    assert bad.status_code == 200
    assert "has-error" in bad.content.decode()
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "Xin-mima-778", "new_password2": "Xin-mima-778"}
    )
    assert response.status_code == 302
    client.post("/logout/")
    assert sign_in(client, "13800000001", "Xin-mima-778").status_code == 302


@pytest.mark.django_db
def test_five_failures_lock_the_account_out(client, world):
    for _ in range(5):
        sign_in(client, "13800000001", "wrong")
    response = sign_in(client, "13800000001", PASSWORD)
    assert response.status_code == 429


@pytest.mark.django_db
def test_a_volunteer_who_left_can_no_longer_log(alice_client, world):
    from pairing.models import ActivityLog
    from teams.models import VolunteerStatus
    from teams.services import change_volunteer_status

    change_volunteer_status(volunteer=world.alice, to=VolunteerStatus.LEFT, by=world.staff)
    response = alice_client.get("/")
    assert response.status_code == 403
    assert "您已退出爱心妈妈队伍" in response.content.decode()
    assert alice_client.post("/log/", {"target": "children"}).status_code == 403
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_a_suspended_volunteer_sees_no_child_and_cannot_log(alice_client, world):
    from pairing.models import ActivityLog
    from teams.models import VolunteerStatus
    from teams.services import change_volunteer_status

    change_volunteer_status(volunteer=world.alice, to=VolunteerStatus.SUSPENDED, by=world.staff)
    response = alice_client.get("/")
    assert response.status_code == 403
    assert "资格已暂停" in response.content.decode()
    assert alice_client.post("/log/", {"target": "children"}).status_code == 403
    assert not ActivityLog.objects.exists()
