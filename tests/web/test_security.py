"""Access rules of the volunteers' pages: only her own pairings, teams and logs; CSRF; no admin."""

import pytest
from django.test import Client

from pairing.models import ActivityLog, ReviewStatus

from .conftest import PASSWORD
from .test_pages import activity, form_token, post_log


@pytest.mark.django_db
def test_every_url_with_another_volunteers_child_or_log_answers_404(alice_client, world):
    bobs_log = world.log(world.bob, child=world.bob_child)
    assert alice_client.get(f"/children/{world.bob_child.pk}/").status_code == 404
    assert alice_client.get(f"/logs/{bobs_log.pk}/edit/").status_code == 404
    assert alice_client.post(f"/logs/{bobs_log.pk}/edit/", activity(world)).status_code == 404
    assert alice_client.post(f"/logs/{bobs_log.pk}/withdraw/").status_code == 404
    assert alice_client.get("/children/999999/").status_code == 404
    assert alice_client.get("/logs/999999/edit/").status_code == 404
    bobs_log.refresh_from_db()
    assert bobs_log.status == ReviewStatus.SUBMITTED
    assert list(bobs_log.pairings.all()) == [world.bob_pairing]


@pytest.mark.django_db
def test_a_team_member_cannot_touch_the_team_log_or_the_leaders_own_log(client, world):
    team_log = world.log(team=world.team)
    alices_log = world.log()
    client.force_login(world.carol.user)
    for log in (team_log, alices_log):
        assert client.get(f"/logs/{log.pk}/edit/").status_code == 404
        assert client.post(f"/logs/{log.pk}/withdraw/").status_code == 404


@pytest.mark.django_db
def test_crafted_post_naming_another_childs_pairing_saves_nothing(alice_client, world):
    response = post_log(alice_client, world, pairings=[world.bob_pairing.pk])
    assert "所选儿童不在您的结对名单中。" in response.content.decode()
    response = post_log(alice_client, world, pairings=["not-a-number"])
    assert "所选儿童无效。" in response.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_crafted_post_naming_a_team_she_does_not_lead_saves_nothing(alice_client, world):
    from tests.teams.conftest import TeamFactory

    other = TeamFactory(federation=world.village)
    response = post_log(alice_client, world, target="team", pairings=[], team=other.pk)
    assert "您不是所选队伍的队长。" in response.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_editing_her_log_to_name_another_child_is_rejected(alice_client, world):
    log = world.log()
    response = alice_client.post(f"/logs/{log.pk}/edit/", activity(world, pairings=[world.bob_pairing.pk]))
    assert "所选儿童不在您的结对名单中。" in response.content.decode()
    assert list(log.pairings.all()) == [world.alice_pairing]


@pytest.mark.django_db
def test_csrf_is_enforced_on_the_activity_form(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice.user)
    data = activity(world, form_token=form_token(client))
    assert client.post("/log/", data).status_code == 403
    log = world.log()
    assert client.post(f"/logs/{log.pk}/withdraw/").status_code == 403
    assert client.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 403
    assert ActivityLog.objects.count() == 1
    log.refresh_from_db()
    assert log.status == ReviewStatus.SUBMITTED


@pytest.mark.django_db
def test_volunteers_cannot_open_the_admin(alice_client):
    response = alice_client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert alice_client.get("/admin/pairing/activitylog/").status_code == 302


@pytest.mark.django_db
def test_volunteer_cannot_sign_in_to_the_admin(client, world):
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200  # the admin's own refusal, not a session for her
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_pages_show_no_identity_numbers(alice_client, world):
    world.log()
    for url in ("/", "/logs/", f"/children/{world.alice_red.pk}/", "/log/"):
        html = alice_client.get(url).content.decode()
        for child in (world.alice_red, world.alice_green, world.team_child):
            assert child.id_number not in html, url
        assert world.alice.id_number not in html


@pytest.mark.django_db
def test_admin_not_found_keeps_the_admin_look(client, world):
    client.force_login(world.staff)
    response = client.get("/admin/children/child/999999/change/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "不在您的管辖范围内" in page and "管理首页" in page


@pytest.mark.django_db
def test_every_volunteer_url_pattern_taking_a_record_refuses_another_volunteers(alice_client, world):
    """Generated from pairing/urls.py: a new page that takes a record id is covered at once."""
    import re

    from pairing import urls

    bobs_log = world.log(world.bob, child=world.bob_child)
    ids = {"child_id": world.bob_child.pk, "log_id": bobs_log.pk}
    checked = []
    for pattern in urls.urlpatterns:
        params = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        if not params:
            continue
        assert set(params) <= set(ids), f"add an id of another volunteer's record for {params}"
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), str(pattern.pattern))
        assert alice_client.get(url).status_code in (404, 405), url
        assert alice_client.post(url, {}).status_code == 404, url
        checked.append(pattern.name)
    assert len(checked) >= 3
    bobs_log.refresh_from_db()
    assert bobs_log.status == ReviewStatus.SUBMITTED
