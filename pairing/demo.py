"""Demo pairings, activity logs and donations for `make run` (after teams.demo and children.demo).

Deterministic and idempotent: each child's fate is drawn from a generator seeded by its ID
number, and only children who have never been paired are considered, so a second run creates
nothing new. Written with `bulk_create`. The rules of `pairing.services.create_pairing` are
respected (eligible volunteers, capacity, the village's own volunteers and teams, the district's
specialty teams; 造水村's children are paired with the municipal organs' cadres — the city
federation's "娘家人" — with a recorded reason).

The story the coverage page tells: most children are paired; in a few villages many are not
(the unpaired list and bulk pairing have something to do); about one pairing in eight has had
no contact within its risk grade's cadence (the overdue list is not empty).
"""

import datetime
import random
import zlib
from decimal import Decimal

from django.utils import timezone

from aixinmama.history import record_bulk_history
from children.models import Child
from teams.models import Federation, FederationKind, Level, Team, TeamKind, Volunteer

from .models import (
    ActivityKind,
    ActivityLog,
    CadenceSetting,
    Donation,
    DonationAllocation,
    DonationKind,
    Donor,
    DonorKind,
    Pairing,
    PairingStatus,
    ReviewStatus,
)
from .services import refresh_last_activity

SEED = 20240901
ZAOSHUI = "350212109213"  # 造水村 (同安区)
REASON_ZAOSHUI = "市妇联“娘家人”定向结对造水村儿童"
PLACES = ["儿童家中", "社区妇女儿童之家", "学校", "新时代文明实践站", "社区图书室", "线上视频"]
DESCRIPTIONS = {
    ActivityKind.HOME_VISIT: "入户走访,了解孩子学习生活情况,与监护人沟通。",
    ActivityKind.DAILY_LIFE: "送去生活用品,帮助整理房间,陪同就医。",
    ActivityKind.STUDY: "辅导作业,检查学习计划完成情况。",
    ActivityKind.COUNSELLING: "谈心谈话,疏导考试焦虑情绪。",
    ActivityKind.FESTIVAL: "节日慰问,送上节日礼物和祝福。",
    ActivityKind.CULTURE: "亲子共读绘本,参观图书馆。",
    ActivityKind.FAMILY_EDUCATION: "与家长交流家庭教育方法。",
}


def _rng(*parts) -> random.Random:
    return random.Random(zlib.crc32("|".join(str(p) for p in (SEED, *parts)).encode()))  # noqa: S311 - demo data


def load(*, out=print) -> dict[str, int]:
    today = timezone.localdate()
    city = Federation.objects.filter(division_code="3502").first()
    if city is None:
        out("结对:未找到厦门市妇联,跳过。")
        return {}
    counts = {"pairings": 0, "logs": 0, "donations": 0}
    _pairings_and_logs(city, today, counts)
    _donations(city, today, counts)
    out("结对演示数据:新增结对 {pairings} 个,帮扶记录 {logs} 条,捐赠 {donations} 笔。".format(**counts))
    return counts


def _pairings_and_logs(city, today, counts):
    never_paired = list(
        Child.objects.in_programme()
        .exclude(pairings__isnull=False)
        .select_related("village")
        .order_by("pk")
        .only("pk", "id_number", "risk_grade", "village__path", "village__division_code", "village__level")
    )
    if not never_paired:
        return
    used_v = dict(_active_counts("volunteer"))
    used_t = dict(_active_counts("team"))
    eligible = list(Volunteer.objects.eligible(on=today).select_related("federation").order_by("pk"))
    by_unit: dict[int, list[Volunteer]] = {}
    for v in eligible:
        by_unit.setdefault(v.federation_id, []).append(v)
    organ_volunteers = [v for v in eligible if v.federation.kind == FederationKind.ORGAN]
    teams = list(Team.objects.select_related("federation").order_by("pk"))
    community = {}
    specialty_by_district: dict[str, list[Team]] = {}
    for t in teams:
        if t.kind == TeamKind.COMMUNITY:
            community.setdefault(t.federation_id, t)
        elif t.federation.level in (Level.DISTRICT, Level.STREET) and t.federation.division_code:
            specialty_by_district.setdefault(t.federation.division_code[:6], []).append(t)
    villages = {c.village_id for c in never_paired}
    # A few villages lag behind: about half their children still wait for a pairing.
    lagging = {pk for pk in villages if _rng("lag", pk).random() < 0.06}
    cadence = CadenceSetting.objects.days_by_grade()

    new: list[Pairing] = []
    for child in never_paired:
        rng = _rng("child", child.id_number)
        village = child.village
        if rng.random() < (0.5 if child.village_id in lagging else 0.04):
            continue
        start = today - datetime.timedelta(days=rng.randint(20, 700))
        partner = None
        if village.division_code == ZAOSHUI and organ_volunteers:
            partner = _with_room(organ_volunteers, used_v, rng)
            if partner:
                new.append(Pairing(child=child, volunteer=partner, start_date=start, reason=REASON_ZAOSHUI))
                continue
        partner = _with_room(by_unit.get(village.pk, []), used_v, rng)
        if partner is not None:
            new.append(Pairing(child=child, volunteer=partner, start_date=start))
        else:
            team = community.get(village.pk)
            if team is not None and used_t.get(team.pk, 0) < team.capacity:
                used_t[team.pk] = used_t.get(team.pk, 0) + 1
                new.append(Pairing(child=child, team=team, start_date=start))
        # Some children also have a specialty team of their district.
        if village.division_code and rng.random() < 0.12:
            options = specialty_by_district.get(village.division_code[:6], [])
            team = _with_room(options, used_t, rng)
            if team is not None:
                new.append(
                    Pairing(child=child, team=team, start_date=start + datetime.timedelta(days=rng.randint(0, 15)))
                )
    for p in new:
        p.start_date = min(p.start_date, today)
    Pairing.objects.bulk_create(new, batch_size=1000)
    record_bulk_history(Pairing, [p.pk for p in new], reason="演示数据", update=False)
    counts["pairings"] = len(new)
    _logs(new, cadence, today, counts)


def _active_counts(field):
    from django.db.models import Count

    return (
        Pairing.objects.filter(status=PairingStatus.ACTIVE, **{f"{field}__isnull": False})
        .values_list(field)
        .annotate(n=Count("pk"))
    )


def _with_room(candidates, used, rng):
    room = [c for c in candidates if used.get(c.pk, 0) < c.capacity]
    if not room:
        return None
    chosen = room[rng.randrange(len(room))]
    used[chosen.pk] = used.get(chosen.pk, 0) + 1
    return chosen


def _logs(pairings, cadence, today, counts):
    logs, links = [], []
    for p in pairings:
        child = p.child
        rng = _rng("logs", child.id_number, p.volunteer_id or 0, p.team_id or 0)
        days = cadence[child.risk_grade]
        overdue = rng.random() < 0.12
        # The latest contact: within the cadence, or (overdue) well before it.
        gap = rng.randint(days + 3, days + 60) if overdue else rng.randint(0, max(days - 3, 1))
        last = today - datetime.timedelta(days=gap)
        if last < p.start_date:
            continue  # a new pairing with no activity yet (due from its start date)
        dates = [last]
        day = last
        for _ in range(rng.randint(0, 5)):
            day -= datetime.timedelta(days=rng.randint(max(days // 2, 7), days))
            if day < p.start_date:
                break
            dates.append(day)
        doer = p.volunteer or p.team
        for d in dates:
            kind = rng.choice(list(DESCRIPTIONS))
            age = (today - d).days
            status = ReviewStatus.APPROVED if age > 10 else ReviewStatus.SUBMITTED
            if rng.random() < 0.03:
                status = ReviewStatus.RETURNED
            logs.append(
                ActivityLog(
                    federation_id=doer.federation_id,
                    volunteer=p.volunteer,
                    team=p.team,
                    date=d,
                    kind=kind,
                    mode="online" if rng.random() < 0.15 else "offline",
                    duration_minutes=rng.choice([30, 45, 60, 90, 120]),
                    children_reached=1,
                    parents_reached=rng.choice([0, 1, 1, 2]),
                    place=rng.choice(PLACES),
                    description=DESCRIPTIONS[kind],
                    status=status,
                    review_comment="请补充活动照片和家长反馈。" if status == ReviewStatus.RETURNED else "",
                )
            )
            links.append(p)
    ActivityLog.objects.bulk_create(logs, batch_size=1000)
    Through = ActivityLog.pairings.through
    Through.objects.bulk_create(
        [Through(activitylog_id=log.pk, pairing_id=p.pk) for log, p in zip(logs, links, strict=True)], batch_size=2000
    )
    counts["logs"] = len(logs)
    refresh_last_activity(p.pk for p in pairings)


def _donations(city, today, counts):
    tongan = Federation.objects.filter(division_code="350212").first()
    siming = Federation.objects.filter(division_code="350203").first()
    haicang = Federation.objects.filter(division_code="350205").first()
    zaoshui = Federation.objects.filter(division_code=ZAOSHUI).first()
    if not (tongan and siming and haicang):
        return
    donors = {
        "新东方": (DonorKind.ENTERPRISE, "思明区新东方教育培训学校", city),
        "礼包": (DonorKind.ENTERPRISE, "厦门市巾帼爱心企业联盟", tongan),
        "家教": (DonorKind.INSTITUTION, "海沧区家庭教育指导中心", haicang),
        "执委": (DonorKind.INDIVIDUAL, "市妇联执委林女士", city),
    }
    existing = {(d.federation_id, d.name): d for d in Donor.objects.filter(name__in=[v[1] for v in donors.values()])}
    missing = [
        Donor(kind=kind, name=name, federation=unit)
        for kind, name, unit in donors.values()
        if (unit.pk, name) not in existing
    ]
    Donor.objects.bulk_create(missing)
    by_name = {d.name: d for d in Donor.objects.filter(name__in=[v[1] for v in donors.values()])}
    year = today.year
    specs = [
        dict(
            receipt_number="XMFJ-DEMO-0001",
            donor=by_name["思明区新东方教育培训学校"],
            date=today - datetime.timedelta(days=120),
            kind=DonationKind.CASH,
            amount=Decimal("100000.00"),
            receiving_body="市妇女儿童发展基金会",
            purpose="资助困境儿童学习和生活",
            federation=city,
        ),
        dict(
            receipt_number="XMFJ-DEMO-0002",
            donor=by_name["厦门市巾帼爱心企业联盟"],
            date=today - datetime.timedelta(days=40),
            kind=DonationKind.IN_KIND,
            items="爱心礼包(书包、文具、冬衣)",
            quantity=60,
            estimated_value=Decimal("12000.00"),
            receiving_unit=zaoshui or tongan,
            purpose="造水村困境儿童节日慰问",
            federation=tongan,
        ),
        dict(
            receipt_number="XMFJ-DEMO-0003",
            donor=by_name["海沧区家庭教育指导中心"],
            date=datetime.date(year - 1, 9, 1),
            kind=DonationKind.SERVICE,
            items="免费家庭教育课程(12 课时)",
            quantity=12,
            estimated_value=Decimal("6000.00"),
            receiving_unit=haicang,
            purpose="困境儿童家长家庭教育指导",
            federation=haicang,
        ),
        dict(
            receipt_number="XMFJ-DEMO-0004",
            donor=by_name["市妇联执委林女士"],
            date=datetime.date(year - 1, 6, 1),
            kind=DonationKind.CASH,
            amount=Decimal("5000.00"),
            receiving_body="市妇女儿童发展基金会",
            purpose="“六一”儿童节慰问",
            federation=city,
        ),
    ]
    have = set(
        Donation.objects.filter(receipt_number__startswith="XMFJ-DEMO-").values_list("receipt_number", flat=True)
    )
    new = [Donation(**s) for s in specs if s["receipt_number"] not in have]
    Donation.objects.bulk_create(new)
    counts["donations"] = len(new)
    gifts = next((d for d in new if d.receipt_number == "XMFJ-DEMO-0002"), None)
    if gifts is not None and zaoshui is not None:
        kids = list(Child.objects.in_programme().filter(village=zaoshui).order_by("pk")[: gifts.quantity])
        allocations = [DonationAllocation(donation=gifts, child=c, quantity=1, date=gifts.date) for c in kids]
        allocations.append(
            DonationAllocation(
                donation=gifts,
                village=zaoshui,
                quantity=min(20, gifts.quantity - len(kids)),
                date=gifts.date,
                note="村妇联留存,用于新纳入儿童",
            )
        )
        DonationAllocation.objects.bulk_create([a for a in allocations if a.quantity])
    cash = next((d for d in new if d.receipt_number == "XMFJ-DEMO-0001"), None)
    if cash is not None:
        # 20,000 yuan of the 100,000 to the first village of each of three districts (助学金).
        villages = [
            Federation.objects.filter(path__startswith=d.path, level=Level.VILLAGE).order_by("path").first()
            for d in (siming, tongan, haicang)
        ]
        DonationAllocation.objects.bulk_create(
            [
                DonationAllocation(donation=cash, village=v, amount=Decimal("20000.00"), date=cash.date, note="助学金")
                for v in villages
                if v is not None
            ]
        )
