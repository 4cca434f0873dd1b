import time

import pytest

from teams import demo
from teams.models import (
    Federation,
    Honour,
    Project,
    SafeguardingCheck,
    Team,
    TeamCategory,
    TeamMembership,
    Volunteer,
    VolunteerStatusChange,
)


def _table_counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Federation,
            Volunteer,
            Team,
            TeamMembership,
            Project,
            Honour,
            SafeguardingCheck,
            VolunteerStatusChange,
        )
    }


@pytest.mark.django_db
def test_demo_loads_xiamen_and_is_idempotent(xiamen):
    lines = []
    started = time.monotonic()
    counts = demo.load(out=lines.append)
    elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert lines and "新增爱心妈妈" in lines[0]

    villages = Federation.objects.within(xiamen).filter(level="village")
    # One community team per village-level unit, each with a leader who is a member.
    community = Team.objects.community()
    assert community.count() == villages.count() == 555
    assert set(community.values_list("federation_id", flat=True)) == set(villages.values_list("pk", flat=True))
    assert not community.filter(leader__isnull=True).exists()
    assert TeamMembership.objects.filter(role="leader").count() == Team.objects.count()

    specialty = Team.objects.specialty()
    assert specialty.count() == 200
    assert set(specialty.values_list("category", flat=True)) == set(TeamCategory.values)
    for name in (
        "中建三局三公司妇女微家",
        "市律师协会女工委",
        "市少年儿童图书馆",
        "渐美村家庭教育工作站",
        "仙岳医院",
        "厦门航空",
    ):
        assert specialty.filter(name__startswith=name).count() == 1, name
    assert specialty.get(name__startswith="渐美村").federation.division_code == "350205001205"
    micro_home = Federation.objects.get(name="中建三局三公司妇女微家")
    assert micro_home.kind == "micro_home" and micro_home.parent == xiamen
    assert specialty.get(name__startswith="中建三局").federation == micro_home
    assert set(Project.objects.filter(team__federation=micro_home).values_list("name", flat=True)) == {
        "关爱小候鸟",
        "筑梦·点亮童心计划",
    }
    assert Project.objects.get(name="律政巾帼爱心助学班").team.category == "legal_aid"

    plaques = Honour.objects.filter(kind="plaque", name="鹭岛爱心妈妈+", batch="首批")
    assert set(plaques.values_list("recipient_unit__name", flat=True)) == {
        "市直机关妇工委",
        *Federation.objects.filter(level="district", kind="territorial").values_list("name", flat=True),
    }
    assert Federation.objects.get(name="市直机关妇工委").kind == "organ"
    assert Honour.objects.filter(kind="flag", recipient_team__name__startswith="厦门航空").exists()

    # Volunteers: mostly women, spread over every district, most eligible, some expiring soon.
    total = Volunteer.objects.count()
    assert total == counts["volunteers"] > 3000
    assert Volunteer.objects.filter(sex="female").count() > 0.85 * total
    assert Volunteer.objects.filter(federation__name="市直机关妇工委").exists()
    for district in Federation.objects.filter(level="district", kind="territorial"):
        assert Volunteer.objects.within(district).exists(), district
    assert Volunteer.objects.eligible().count() > 0.6 * total
    assert Volunteer.objects.check_expiring().exists()
    for volunteer in Volunteer.objects.order_by("?")[:40]:
        volunteer.full_clean()  # valid ID numbers and mobiles, sex agrees with the ID

    before = _table_counts()
    again = demo.load(out=lines.append)
    assert set(again.values()) == {0}
    assert _table_counts() == before


@pytest.mark.django_db
def test_demo_without_divisions_says_so():
    lines = []
    assert demo.load(out=lines.append) == {}
    assert "请先导入区划" in lines[0]
