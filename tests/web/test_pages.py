"""我的结对, 记录活动, 我的记录: what she sees, every form rule, edit and withdraw."""

import datetime
import re

import pytest
from django.utils import timezone

from pairing.models import ActivityLog, ReviewStatus
from pairing.services import approve_activity, return_activity

TODAY = timezone.localdate


def form_token(client, url="/log/"):
    html = client.get(url).content.decode()
    return re.search(r'name="form_token" value="([^"]*)"', html).group(1)


def activity(world, **overrides):
    data = {
        "target": "children",
        "pairings": [world.alice_pairing.pk],
        "kind": "home_visit",
        "date": TODAY().isoformat(),
        "mode": "offline",
        "duration_minutes": "45",
        "children_reached": "1",
        "parents_reached": "1",
        "place": "林小雨家",
        "description": "陪孩子写作业,奶奶身体不好",
    }
    data.update(overrides)
    return data


def post_log(client, world, **overrides):
    data = activity(world, **overrides)
    data.setdefault("form_token", form_token(client))
    return client.post("/log/", data)


# --- 我的结对 -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_lists_her_children_and_her_teams_children_but_not_others(alice_client, world):
    html = alice_client.get("/").content.decode()
    assert "林小雨" in html and "王小明" in html
    assert "阳光爱心妈妈队结对的儿童" in html and "陈小花" in html
    assert "李小军" not in html


@pytest.mark.django_db
def test_home_shows_what_she_needs_to_know_and_no_id_numbers(alice_client, world):
    world.alice_red.needs.add("study")
    guardian = world.alice_red.guardians.get()
    html = alice_client.get("/").content.decode()
    card = html[html.index(f'data-child="{world.alice_red.pk}"') :]
    card = card[: card.index("</article>")]
    assert "红色" in card and "risk-red" in card
    assert f"{world.alice_red.age} 岁" in card
    assert world.village.name in card
    assert "学习帮扶" in card
    assert guardian.name in card and guardian.phone in card and f'href="tel:{guardian.phone}"' in card
    assert "上次活动:暂无" in card
    for child in (world.alice_red, world.alice_green, world.team_child):
        assert child.id_number not in html
        assert child.id_number[:6] + "****" not in html


@pytest.mark.django_db
def test_overdue_children_come_first_with_their_due_date(alice_client, world):
    # Paired 60 days ago, no activity: red (14 days) is overdue, green (90 days) is not.
    world.log(child=world.alice_green, date=TODAY() - datetime.timedelta(days=2))
    html = alice_client.get("/").content.decode()
    assert html.index("林小雨") < html.index("王小明")
    red_due = world.alice_pairing.start_date + datetime.timedelta(days=14)
    assert f"已逾期,应于 {red_due:%Y-%m-%d} 前联系" in html
    green_last = TODAY() - datetime.timedelta(days=2)
    assert f"上次活动:{green_last:%Y-%m-%d}" in html
    assert f"下次联系:{green_last + datetime.timedelta(days=90):%Y-%m-%d} 前" in html
    assert "有 1 名儿童已超过约定时间未联系" in html  # 林小雨; the team's 陈小花 (yellow, 60 days) falls due today


@pytest.mark.django_db
def test_child_page_for_her_child_and_her_teams_child(client, world):
    client.force_login(world.carol.user)  # a team member, not leader
    assert client.get(f"/children/{world.team_child.pk}/").status_code == 200
    assert client.get(f"/children/{world.alice_red.pk}/").status_code == 404


@pytest.mark.django_db
def test_each_view_of_a_childs_page_writes_one_audit_event(client, world):
    from teams.models import AuditAction, AuditEvent

    client.force_login(world.carol.user)
    before = AuditEvent.objects.filter(action=AuditAction.VIEW).count()
    client.get(f"/children/{world.team_child.pk}/")
    client.get(f"/children/{world.alice_red.pk}/")  # not hers: 404, nothing seen, nothing recorded
    events = list(AuditEvent.objects.filter(action=AuditAction.VIEW).order_by("pk"))[before:]
    assert [(e.actor, e.model_label, e.object_id) for e in events] == [
        (world.carol.user, "children.Child", str(world.team_child.pk))
    ]


@pytest.mark.django_db
def test_child_page_of_another_volunteers_child_is_404(alice_client, world):
    response = alice_client.get(f"/children/{world.bob_child.pk}/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert "李小军" not in response.content.decode()


@pytest.mark.django_db
def test_ended_pairing_child_is_no_longer_hers(alice_client, world):
    from pairing.services import end_pairing

    end_pairing(pairing=world.alice_pairing, reason="other", by=world.staff, note="测试")
    assert alice_client.get(f"/children/{world.alice_red.pk}/").status_code == 404
    assert "林小雨" not in alice_client.get("/").content.decode()


# --- 记录活动 -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_form_defaults_to_today_and_offers_only_her_children(alice_client, world):
    html = alice_client.get("/log/").content.decode()
    assert f'value="{TODAY():%Y-%m-%d}"' in html
    assert f'max="{TODAY():%Y-%m-%d}"' in html
    assert "林小雨" in html and "陈小花(阳光爱心妈妈队)" in html
    assert "李小军" not in html
    assert "周末读书会" in html  # she leads the team: team activity offered


@pytest.mark.django_db
def test_logging_an_activity_files_it_for_review(alice_client, world):
    response = post_log(alice_client, world)
    assert response.status_code == 302 and response.url == "/logs/"
    log = ActivityLog.objects.get()
    assert log.volunteer == world.alice and log.status == ReviewStatus.SUBMITTED
    assert list(log.pairings.all()) == [world.alice_pairing]
    assert (log.duration_minutes, log.parents_reached, log.place) == (45, 1, "林小雨家")
    assert log.created_by == world.alice.user
    html = alice_client.get("/logs/").content.decode()
    assert "已提交 · 待审核" in html and "帮扶记录已提交" in html


@pytest.mark.django_db
def test_logging_for_her_teams_child_as_herself(client, world):
    client.force_login(world.carol.user)
    response = post_log(client, world, pairings=[world.team_pairing.pk])
    assert response.status_code == 302
    assert ActivityLog.objects.get().volunteer == world.carol


@pytest.mark.django_db
def test_future_date_is_refused_beside_the_field_and_typed_values_stay(alice_client, world):
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = post_log(alice_client, world, date=tomorrow.isoformat(), place="村委会活动室", duration_minutes="75")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="error" id="id_date-error">活动日期不能晚于今天。</p>' in html
    assert 'value="村委会活动室"' in html and 'value="75"' in html
    assert "陪孩子写作业,奶奶身体不好" in html
    assert f'value="{tomorrow:%Y-%m-%d}"' in html
    assert re.search(rf'value="{world.alice_pairing.pk}"[^>]*checked', html)
    assert not ActivityLog.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"pairings": []}, "pairings", "请至少选择一名儿童。"),
        ({"kind": ""}, "kind", "请选择帮扶类型。"),
        ({"kind": "dancing"}, "kind", "请选择有效的帮扶类型。"),
        ({"date": ""}, "date", "请填写活动日期。"),
        ({"date": "3月8日"}, "date", "请按“年-月-日”填写日期"),
        ({"duration_minutes": "0"}, "duration_minutes", "时长至少 1 分钟。"),
        ({"duration_minutes": "2000"}, "duration_minutes", "时长不能超过 1440 分钟"),
        ({"duration_minutes": "一小时"}, "duration_minutes", "请填写整数分钟。"),
        ({"children_reached": "-1"}, "children_reached", "人次不能为负数。"),
        ({"parents_reached": ""}, "parents_reached", "请填写服务家长人次"),
        ({"mode": ""}, "mode", "请选择线上或线下。"),
    ],
)
@pytest.mark.django_db
def test_each_form_rule_has_a_chinese_message_beside_its_field(alice_client, world, overrides, field, message):
    response = post_log(alice_client, world, **overrides)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'<p class="error" id="id_{field}-error">{re.escape(message)}', html), html[-4000:]
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_crafted_post_naming_another_volunteers_child_is_rejected(alice_client, world):
    response = post_log(alice_client, world, pairings=[world.alice_pairing.pk, world.bob_pairing.pk])
    assert response.status_code == 200
    assert "所选儿童不在您的结对名单中。" in response.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_double_submit_files_one_log(alice_client, world):
    data = activity(world, form_token=form_token(alice_client))
    first = alice_client.post("/log/", data)
    second = alice_client.post("/log/", data)
    assert first.status_code == second.status_code == 302
    assert ActivityLog.objects.count() == 1
    assert "这份记录已经提交过,没有重复保存。" in alice_client.get("/logs/").content.decode()


@pytest.mark.django_db
def test_a_post_without_a_form_token_saves_nothing(alice_client, world):
    data = activity(world)
    data["form_token"] = "made-up"
    alice_client.post("/log/", data)
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_a_fresh_form_gives_a_fresh_token(alice_client, world):
    post_log(alice_client, world)
    post_log(alice_client, world, pairings=[world.team_pairing.pk])
    assert ActivityLog.objects.count() == 2


@pytest.mark.django_db
def test_team_leader_logs_a_team_activity_with_its_project_and_headcounts(alice_client, world):
    response = post_log(
        alice_client,
        world,
        target="team",
        pairings=[],
        team=str(world.team.pk),
        project=str(world.project.pk),
        kind="culture",
        children_reached="32",
        parents_reached="18",
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    log = ActivityLog.objects.get()
    assert (log.team, log.volunteer, log.is_group, log.project) == (world.team, None, True, world.project)
    assert (log.children_reached, log.parents_reached) == (32, 18)
    html = alice_client.get("/logs/").content.decode()
    assert "阳光爱心妈妈队 · 集体活动 · 周末读书会" in html


@pytest.mark.django_db
def test_team_member_who_is_not_leader_cannot_log_for_the_team(client, world):
    client.force_login(world.carol.user)
    assert "周末读书会" not in client.get("/log/").content.decode()
    response = post_log(client, world, target="team", pairings=[], team=str(world.team.pk))
    assert "只有队长可以填报队伍集体活动。" in response.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_team_activity_needs_a_team_and_its_own_project(alice_client, world):
    from tests.teams.conftest import ProjectFactory, TeamFactory

    other_project = ProjectFactory(team=TeamFactory(federation=world.village), name="别队项目")
    no_team = post_log(alice_client, world, target="team", pairings=[])
    assert "请选择开展集体活动的队伍。" in no_team.content.decode()
    foreign = post_log(alice_client, world, target="team", pairings=[], team=world.team.pk, project=other_project.pk)
    assert "所选项目不属于您带领的队伍。" in foreign.content.decode()
    on_own = post_log(alice_client, world, project=world.project.pk)
    assert "项目只用于队伍集体活动。" in on_own.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_date_before_the_pairing_began_is_refused_by_the_service_rule(alice_client, world):
    early = world.alice_pairing.start_date - datetime.timedelta(days=3)
    response = post_log(alice_client, world, date=early.isoformat())
    assert "活动日期早于林小雨的结对日期" in response.content.decode()
    assert not ActivityLog.objects.exists()


@pytest.mark.django_db
def test_log_form_from_a_child_card_ticks_that_child(alice_client, world):
    html = alice_client.get(f"/log/?child={world.alice_green.pk}").content.decode()
    pk = world.alice.pairings.get(child=world.alice_green).pk
    assert re.search(rf'value="{pk}"[^>]*checked', html)
    assert not re.search(rf'value="{world.alice_pairing.pk}"[^>]*checked', html)


# --- 我的记录 -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_my_logs_newest_first_with_review_badges_and_return_comment(alice_client, world):
    old = world.log(date=TODAY() - datetime.timedelta(days=10))
    new = world.log(date=TODAY() - datetime.timedelta(days=1), kind="study")
    approve_activity(activity=old, by=world.staff)
    returned = world.log(date=TODAY() - datetime.timedelta(days=5), kind="counselling")
    return_activity(activity=returned, by=world.staff, comment="请补充孩子的情绪变化")
    world.log(world.bob, child=world.bob_child)
    html = alice_client.get("/logs/").content.decode()
    assert (
        html.index(f'data-log="{new.pk}"')
        < html.index(f'data-log="{returned.pk}"')
        < html.index(f'data-log="{old.pk}"')
    )
    assert "status-approved" in html and "已通过" in html
    assert "已退回,请修改" in html and "请补充孩子的情绪变化" in html
    assert "李小军" not in html
    assert f"/logs/{old.pk}/edit/" not in html  # approved: read-only
    assert f"/logs/{new.pk}/edit/" in html and f"/logs/{new.pk}/withdraw/" in html


@pytest.mark.django_db
def test_returned_log_edited_goes_back_for_review(alice_client, world):
    log = world.log()
    return_activity(activity=log, by=world.staff, comment="时长写错了")
    page = alice_client.get(f"/logs/{log.pk}/edit/").content.decode()
    assert "时长写错了" in page
    data = activity(world, duration_minutes="90", date=log.date.isoformat())
    response = alice_client.post(f"/logs/{log.pk}/edit/", data)
    assert response.status_code == 302
    log.refresh_from_db()
    assert (log.status, log.duration_minutes) == (ReviewStatus.SUBMITTED, 90)
    assert ActivityLog.objects.count() == 1


@pytest.mark.django_db
def test_edit_keeps_typed_values_on_error(alice_client, world):
    log = world.log()
    response = alice_client.post(f"/logs/{log.pk}/edit/", activity(world, duration_minutes="0", place="学校门口"))
    assert response.status_code == 200
    assert 'value="学校门口"' in response.content.decode()
    log.refresh_from_db()
    assert log.place == ""


@pytest.mark.django_db
def test_approved_log_cannot_be_edited_or_withdrawn(alice_client, world):
    log = world.log()
    approve_activity(activity=log, by=world.staff)
    assert alice_client.get(f"/logs/{log.pk}/edit/").status_code == 302
    alice_client.post(f"/logs/{log.pk}/edit/", activity(world, duration_minutes="5"))
    alice_client.post(f"/logs/{log.pk}/withdraw/")
    log.refresh_from_db()
    assert (log.status, log.duration_minutes) == (ReviewStatus.APPROVED, 60)


@pytest.mark.django_db
def test_withdraw_is_a_post(alice_client, world):
    log = world.log()
    assert alice_client.get(f"/logs/{log.pk}/withdraw/").status_code == 405
    response = alice_client.post(f"/logs/{log.pk}/withdraw/")
    assert response.status_code == 302
    log.refresh_from_db()
    assert log.status == ReviewStatus.WITHDRAWN
    assert "已撤回" in alice_client.get("/logs/").content.decode()


@pytest.mark.django_db
def test_leader_sees_and_edits_her_teams_logs(alice_client, world):
    log = world.log(team=world.team, children_reached=20)
    assert f'data-log="{log.pk}"' in alice_client.get("/logs/").content.decode()
    data = activity(world, target="team", team=world.team.pk, pairings=[], children_reached="25")
    response = alice_client.post(f"/logs/{log.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    log.refresh_from_db()
    assert (log.team, log.children_reached) == (world.team, 25)
