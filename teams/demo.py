"""Demo data for `make run`: Xiamen's caring mothers, their teams, projects and honours.

Deterministic (one seeded `random.Random`) and idempotent: records are keyed by a natural key
(ID number, unit + team name, team + project name, the honour's award and recipient) and only
missing ones are written, so a second call changes nothing. Everything is written with
`bulk_create`. Needs the federation hierarchy from data/xiamen-divisions.csv.

All people are fictitious: names are drawn from common family and given names, ID numbers
are made with `make_id_number` (valid check digit, the unit's district as area code).
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from aixinmama.history import record_bulk_history
from aixinmama.identity import make_id_number

from .models import (
    CheckResult,
    Federation,
    FederationKind,
    Honour,
    HonourKind,
    Level,
    MemberRole,
    Project,
    SafeguardingCheck,
    SkillArea,
    SourceTag,
    SourceTagChoice,
    Team,
    TeamCategory,
    TeamKind,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
    VolunteerStatusChange,
)

SEED = 20240412
AWARD_DAY = datetime.date(2024, 4, 12)  # the 推进会 where the first plaques and flags were given
SPECIALTY_TEAM_TARGET = 200

FAMILY_NAMES = "陈林黄张李王吴刘蔡杨郑许洪谢郭苏庄曾叶周柯卢颜施邱何高朱"
FEMALE_GIVEN = [
    "美华", "丽珍", "秀英", "雅琴", "淑芬", "晓燕", "惠玲", "婷婷", "丽娟", "海燕", "春梅", "素珍", "碧霞",
    "佳怡", "雪梅", "玉兰", "静怡", "思琪", "艳红", "秀玲", "丽华", "金凤", "宝珠", "月娥", "清华", "雅婷",
    "晓梅", "惠珍", "小燕", "丽萍", "燕玲", "美玲", "淑贞", "碧云", "秀珠", "心怡", "悦", "洁", "玫", "岚",
]  # fmt: skip
MALE_GIVEN = ["志强", "建华", "文斌", "国栋", "明辉", "俊杰", "海峰", "振宇"]
MOBILE_PREFIXES = ["138", "139", "159", "188", "137", "150", "186", "136", "158", "177", "180", "199"]

HOSTS_BY_CATEGORY = {
    TeamCategory.VENUE: ["{d}青少年宫", "{s}新时代文明实践站", "{s}妇女儿童之家", "{d}科技馆"],
    TeamCategory.CULTURE: ["{d}图书馆", "{s}综合文化站", "{d}书法家协会", "{s}社区书屋"],
    TeamCategory.FAMILY_EDUCATION: ["{s}家长学校", "{d}家庭教育指导中心", "{s}家庭教育工作站"],
    TeamCategory.COUNSELLING: ["{d}心理咨询师协会", "{d}妇幼保健院", "{s}心理服务站"],
    TeamCategory.LEGAL_AID: ["{d}律师协会女律师", "{s}法律服务所", "{d}司法局巾帼普法"],
    TeamCategory.SPECIAL_EDUCATION: ["{d}特殊教育学校", "{d}残疾人康复中心", "{s}融合教育志愿队"],
}

# The teams named in the article: (owner, name, category, host, founded, description).
# Owner is "city", "micro_home" or a division code.
NAMED_TEAMS = [
    (
        "micro_home",
        "中建三局三公司妇女微家“爱心妈妈”志愿服务队",
        TeamCategory.VENUE,
        "中建三局三公司妇女微家",
        datetime.date(2021, 3, 8),
        "以妇女微家为载体,关爱在工地务工的产业工人家庭的流动儿童。",
    ),
    (
        "city",
        "市律师协会女工委“爱心妈妈”服务队",
        TeamCategory.LEGAL_AID,
        "厦门市律师协会女工委",
        datetime.date(2016, 3, 1),
        "经市妇女儿童发展基金会与翔安区妇联推荐,定向结对“律政巾帼爱心助学班”。",
    ),
    (
        "city",
        "市少年儿童图书馆爱心故事妈妈志愿服务队",
        TeamCategory.CULTURE,
        "厦门市少年儿童图书馆",
        datetime.date(2011, 4, 23),
        "以书为媒,为孩子们选好书、读好书;全国巾帼志愿服务“十大优秀项目”。",
    ),
    (
        "350205001205",
        "渐美村家庭教育工作站“爱心妈妈”团队",
        TeamCategory.FAMILY_EDUCATION,
        "海沧区渐美村家庭教育工作站",
        datetime.date(2019, 9, 1),
        "“隐型父母帮扶模式”,关爱外来务工人员家庭的孩子。",
    ),
    (
        "city",
        "仙岳医院中西医结合科开放病区“爱心妈妈”志愿服务队",
        TeamCategory.COUNSELLING,
        "厦门市仙岳医院",
        datetime.date(2020, 6, 1),
        "为困境儿童提供心理疏导。",
    ),
    (
        "city",
        "厦门航空“爱心妈妈”团队",
        TeamCategory.VENUE,
        "厦门航空有限公司",
        datetime.date(2019, 6, 1),
        "",
    ),
]

NAMED_PROJECTS = [
    # (team name, project name, starts_on, ends_on, description)
    (
        "中建三局三公司妇女微家“爱心妈妈”志愿服务队",
        "关爱小候鸟",
        datetime.date(2022, 7, 1),
        None,
        "关爱跟随父母务工地点流动的儿童。",
    ),
    (
        "中建三局三公司妇女微家“爱心妈妈”志愿服务队",
        "筑梦·点亮童心计划",
        datetime.date(2023, 1, 1),
        None,
        "为困境儿童量身打造的系列活动。",
    ),
    (
        "市律师协会女工委“爱心妈妈”服务队",
        "律政巾帼爱心助学班",
        datetime.date(2016, 9, 1),
        None,
        "8 年定向结对翔安区困境儿童。",
    ),
]


def _short_name(unit_name: str) -> str:
    return unit_name.removesuffix("居委会").removesuffix("委会").removesuffix("办事处")


def _area_code(unit: Federation, fallback: str = "350203") -> str:
    code = unit.division_code or ""
    return code[:6] if len(code) >= 6 else fallback


class _Generator:
    def __init__(self, rng: random.Random, today: datetime.date):
        self.rng = rng
        self.today = today
        self.ids: set[str] = set()
        self.sequence = 0
        self.volunteers: list[dict] = []

    def person(self, unit: Federation, *, employer: str = "", skill: str | None = None) -> dict:
        rng = self.rng
        sex = "female" if rng.random() < 0.93 else "male"
        given = rng.choice(FEMALE_GIVEN if sex == "female" else MALE_GIVEN)
        birth = datetime.date(1962, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 36))
        while True:
            self.sequence += 1
            id_number = make_id_number(_area_code(unit), birth, self.sequence, sex)
            if id_number not in self.ids:
                break
        self.ids.add(id_number)
        roll = rng.random()
        status = (
            VolunteerStatus.ACTIVE
            if roll < 0.86
            else VolunteerStatus.APPLIED
            if roll < 0.94
            else VolunteerStatus.SUSPENDED
            if roll < 0.97
            else VolunteerStatus.LEFT
        )
        tags = rng.sample(SourceTagChoice.values, k=rng.choice([1, 1, 1, 2]))
        skills = [skill] if skill else ([rng.choice(TeamCategory.values)] if rng.random() < 0.2 else [])
        spec = {
            "name": rng.choice(FAMILY_NAMES) + given,
            "sex": sex,
            "id_number": id_number,
            "birth_date": birth,
            "mobile": rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            "federation": unit,
            "employer": employer,
            "capacity": rng.choice([1, 1, 2, 2, 2, 3]),
            "status": status,
            "tags": tags,
            "skills": skills,
            "check": self.check_for(status),
        }
        self.volunteers.append(spec)
        return spec

    def check_for(self, status: str):
        """(checked_on, result, valid_until) or None: most clear and valid, some expiring soon."""
        rng, today = self.rng, self.today
        if status == VolunteerStatus.APPLIED:
            if rng.random() < 0.5:
                return (today - datetime.timedelta(days=rng.randrange(1, 20)), CheckResult.PENDING, today)
            return None
        roll = rng.random()
        if roll < 0.80:  # clear, valid for months yet
            checked = today - datetime.timedelta(days=rng.randrange(0, 330))
            return (checked, CheckResult.CLEAR, checked + datetime.timedelta(days=365))
        if roll < 0.90:  # clear, expiring within 30 days
            until = today + datetime.timedelta(days=rng.randrange(0, 30))
            return (until - datetime.timedelta(days=365), CheckResult.CLEAR, until)
        if roll < 0.96:  # expired
            until = today - datetime.timedelta(days=rng.randrange(1, 200))
            return (until - datetime.timedelta(days=365), CheckResult.CLEAR, until)
        return None


def _unit(name: str, parent: Federation, kind: str) -> Federation:
    unit = Federation.objects.filter(name=name, parent=parent).first()
    if unit is None:
        level = {Level.CITY: Level.DISTRICT, Level.DISTRICT: Level.STREET}[parent.level]
        unit = Federation(name=name, parent=parent, kind=kind, level=level)
        unit.full_clean()
        unit.save()
    return unit


@transaction.atomic
def load(*, out=print) -> dict[str, int]:
    """Create the demo volunteers, teams, projects and honours that are not there yet."""
    city = Federation.objects.filter(division_code="3502").first()
    if city is None:
        out("未找到厦门市(3502):请先导入区划(import_divisions data/xiamen-divisions.csv)。")
        return {}
    SourceTag.objects.ensure_all()
    SkillArea.objects.ensure_all()
    rng = random.Random(SEED)  # noqa: S311 (reproducible demo data, not secrets)
    today = timezone.localdate()
    gen = _Generator(rng, today)

    organ = _unit("市直机关妇工委", city, FederationKind.ORGAN)
    micro_home = _unit("中建三局三公司妇女微家", city, FederationKind.MICRO_HOME)
    units = list(Federation.objects.within(city).filter(kind=FederationKind.TERRITORIAL).order_by("path"))
    by_code = {u.division_code: u for u in units}
    districts = [u for u in units if u.level == Level.DISTRICT]
    streets = [u for u in units if u.level == Level.STREET]
    villages = [u for u in units if u.level == Level.VILLAGE]
    district_of = {u.pk: by_code.get((u.division_code or "")[:6]) for u in units}

    # --- plan: community teams (one per village) and specialty teams ------------------
    team_specs = []  # (owner unit, name, kind, category, host, founded, description, member specs)
    for village in villages:
        members = [gen.person(village) for _ in range(rng.randint(3, 6))]
        founded = datetime.date(rng.randint(2019, 2023), rng.randint(1, 12), 1)
        team_specs.append(
            (village, f"{_short_name(village.name)}“爱心妈妈”队伍", TeamKind.COMMUNITY, "", "", founded, "", members)
        )
    # Women cadres of the municipal organs volunteer too (they pair with children of 造水村 and elsewhere).
    for _ in range(12):
        gen.person(organ, employer="市直机关")
    owners = {"city": city, "micro_home": micro_home}
    for owner, name, category, host, founded, description in NAMED_TEAMS:
        unit = owners.get(owner) or by_code[owner]
        members = [gen.person(unit, employer=host, skill=category) for _ in range(rng.randint(5, 9))]
        team_specs.append((unit, name, TeamKind.SPECIALTY, category, host, founded, description, members))
    categories = TeamCategory.values
    for index in range(SPECIALTY_TEAM_TARGET - len(NAMED_TEAMS)):
        category = categories[index % len(categories)]
        street = streets[rng.randrange(len(streets))]
        district = district_of[street.pk]
        at_district = rng.random() < 0.4
        host = rng.choice(HOSTS_BY_CATEGORY[category]).format(
            d=district.name, s=_short_name(street.name).removesuffix("街道")
        )
        owner = district if at_district else street
        name = f"{host}“爱心妈妈”队伍"
        founded = datetime.date(rng.randint(2015, 2024), rng.randint(1, 12), 1)
        members = [gen.person(owner, employer=host, skill=category) for _ in range(rng.randint(3, 7))]
        team_specs.append((owner, name, TeamKind.SPECIALTY, category, host, founded, "", members))

    # Names must be unique per owning unit: number repeats (deterministically).
    seen: dict[tuple[int, str], int] = {}
    for i, spec in enumerate(team_specs):
        key = (spec[0].pk, spec[1])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            team_specs[i] = (spec[0], f"{spec[1]}{seen[key]}", *spec[2:])

    counts = {}
    volunteer_pk = _write_volunteers(gen.volunteers, counts)
    _write_teams(team_specs, volunteer_pk, counts)
    _write_projects(counts)
    _write_honours(city, organ, districts, counts)
    out(
        "演示数据:新增爱心妈妈 {volunteers} 人,队伍 {teams} 支,成员 {memberships} 条,"
        "项目 {projects} 个,荣誉 {honours} 项。".format(**counts)
    )
    return counts


def _write_volunteers(specs: list[dict], counts: dict) -> dict[str, int]:
    existing = set(
        Volunteer.objects.filter(id_number__in=[s["id_number"] for s in specs]).values_list("id_number", flat=True)
    )
    new = [s for s in specs if s["id_number"] not in existing]
    fields = ["name", "sex", "id_number", "birth_date", "mobile", "federation", "employer", "capacity", "status"]
    created = Volunteer.objects.bulk_create([Volunteer(**{f: s[f] for f in fields}) for s in new], batch_size=1000)
    record_bulk_history(Volunteer, created, reason="演示数据", update=False)
    pk_of = dict(Volunteer.objects.filter(id_number__in=[s["id_number"] for s in specs]).values_list("id_number", "pk"))
    tag_pk = dict(SourceTag.objects.values_list("code", "pk"))
    skill_pk = dict(SkillArea.objects.values_list("code", "pk"))
    tag_rows, skill_rows, checks, history = [], [], [], []
    now = timezone.now()
    path = {
        VolunteerStatus.APPLIED: [VolunteerStatus.APPLIED],
        VolunteerStatus.ACTIVE: [VolunteerStatus.APPLIED, VolunteerStatus.ACTIVE],
        VolunteerStatus.SUSPENDED: [VolunteerStatus.APPLIED, VolunteerStatus.ACTIVE, VolunteerStatus.SUSPENDED],
        VolunteerStatus.LEFT: [VolunteerStatus.APPLIED, VolunteerStatus.ACTIVE, VolunteerStatus.LEFT],
    }
    for s in new:
        pk = pk_of[s["id_number"]]
        tag_rows += [Volunteer.source_tags.through(volunteer_id=pk, sourcetag_id=tag_pk[t]) for t in s["tags"]]
        skill_rows += [Volunteer.skills.through(volunteer_id=pk, skillarea_id=skill_pk[k]) for k in s["skills"]]
        if s["check"]:
            checked_on, result, valid_until = s["check"]
            checks.append(
                SafeguardingCheck(
                    volunteer_id=pk,
                    checked_on=checked_on,
                    result=result,
                    valid_until=valid_until,
                    authority="辖区派出所",
                )
            )
        steps = path[s["status"]]
        for before, after in zip(["", *steps[:-1]], steps, strict=True):
            history.append(
                VolunteerStatusChange(
                    volunteer_id=pk, from_status=before, to_status=after, changed_at=now, note="演示数据"
                )
            )
    Volunteer.source_tags.through.objects.bulk_create(tag_rows, batch_size=2000, ignore_conflicts=True)
    Volunteer.skills.through.objects.bulk_create(skill_rows, batch_size=2000, ignore_conflicts=True)
    SafeguardingCheck.objects.bulk_create(checks, batch_size=2000)
    VolunteerStatusChange.objects.bulk_create(history, batch_size=2000)
    counts["volunteers"] = len(new)
    return pk_of


def _write_teams(specs, volunteer_pk: dict[str, int], counts: dict) -> None:
    existing = {(f, n) for f, n in Team.objects.values_list("federation_id", "name")}
    new = [s for s in specs if (s[0].pk, s[1]) not in existing]
    Team.objects.bulk_create(
        [
            Team(
                federation=unit,
                name=name,
                kind=kind,
                category=category,
                host_organisation=host,
                founded_on=founded,
                description=description,
                capacity=len(members) * 2,
            )
            for unit, name, kind, category, host, founded, description, members in new
        ],
        batch_size=1000,
    )
    team_pk = {(f, n): pk for pk, f, n in Team.objects.values_list("pk", "federation_id", "name")}
    memberships, leaders = [], []
    for unit, name, _kind, _category, _host, founded, _description, members in new:
        pk = team_pk[(unit.pk, name)]
        for position, member in enumerate(members):
            memberships.append(
                TeamMembership(
                    team_id=pk,
                    volunteer_id=volunteer_pk[member["id_number"]],
                    role=MemberRole.LEADER if position == 0 else MemberRole.MEMBER,
                    joined_on=founded,
                )
            )
        leaders.append(Team(pk=pk, leader_id=volunteer_pk[members[0]["id_number"]]))
    TeamMembership.objects.bulk_create(memberships, batch_size=2000)
    Team.objects.bulk_update(leaders, ["leader"], batch_size=1000)
    counts["teams"] = len(new)
    counts["memberships"] = len(memberships)


def _write_projects(counts: dict) -> None:
    teams = {t.name: t for t in Team.objects.filter(name__in=[p[0] for p in NAMED_PROJECTS])}
    existing = set(Project.objects.filter(team__in=teams.values()).values_list("team__name", "name"))
    new = [
        Project(team=teams[team], name=name, starts_on=starts, ends_on=ends, description=description)
        for team, name, starts, ends, description in NAMED_PROJECTS
        if team in teams and (team, name) not in existing
    ]
    Project.objects.bulk_create(new)
    counts["projects"] = len(new)


def _write_honours(city, organ, districts, counts: dict) -> None:
    wanted = [
        Honour(
            kind=HonourKind.PLAQUE,
            name="鹭岛爱心妈妈+",
            batch="首批",
            awarded_on=AWARD_DAY,
            awarding_unit=city,
            recipient_unit=unit,
        )
        for unit in [organ, *districts]
    ]
    flagged = Team.objects.filter(name__in=[t[1] for t in NAMED_TEAMS if t[2] != TeamCategory.FAMILY_EDUCATION])
    wanted += [
        Honour(
            kind=HonourKind.FLAG,
            name="特色“爱心妈妈”队伍",
            batch="首批",
            awarded_on=AWARD_DAY,
            awarding_unit=city,
            recipient_team=team,
        )
        for team in flagged.order_by("pk")
    ]
    existing = set(
        Honour.objects.filter(awarding_unit=city, awarded_on=AWARD_DAY).values_list(
            "kind", "name", "recipient_unit_id", "recipient_team_id"
        )
    )
    new = [h for h in wanted if (h.kind, h.name, h.recipient_unit_id, h.recipient_team_id) not in existing]
    Honour.objects.bulk_create(new)
    counts["honours"] = len(new)
