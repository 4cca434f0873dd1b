"""Demo children for `make run`: about 3,000 fictitious children across Xiamen's villages.

Deterministic (a seeded `random.Random`, ages counted from a fixed reference date) and
idempotent (records are keyed by their ID number; a second run creates nothing). Every ID
number is valid and fictitious (`make_id_number`: the district's code, the birth date, a
sequence and the sex). A handful of children live in 造水村 (同安区), where the city
federation's own staff pair with children, and in 渐美村 (海沧区).
"""

import datetime
import random
from dataclasses import dataclass, field

from aixinmama.history import record_bulk_history
from aixinmama.identity import make_id_number
from teams.models import Federation, FederationKind, Level

from .models import (
    CONSENT_AGE,
    CategoryCode,
    Child,
    ConsentMethod,
    ConsentRecord,
    Guardian,
    GuardianRelation,
    NeedCode,
    RiskGrade,
    age_on,
)
from .services import age_out_children

SEED = 20240601
COUNT = 3000
REFERENCE = datetime.date(2025, 9, 1)  # ages 3-17 on this day; later runs age the 18-year-olds out
SPECIAL_VILLAGES = {"350212109213": 8, "350205001205": 6}  # 造水村, 渐美村

SURNAMES = "陈林黄张李王吴刘蔡杨郑许洪曾苏叶庄谢柯卢周徐邱何胡高郭罗江方戴沈施颜傅童彭欧阳"
GIRL_CHARS = "雨欣怡婷佳琪梓涵诗雅静思颖慧晓玲萱妍馨悦彤可心蕾瑶雪琳"
BOY_CHARS = "浩宇俊杰子轩博文睿泽晨阳宏伟志强明辉家豪一鸣天佑嘉铭凯"
GRADES = {6: "一年级", 7: "二年级", 8: "三年级", 9: "四年级", 10: "五年级", 11: "六年级"}
GRADES.update({12: "初一", 13: "初二", 14: "初三", 15: "高一", 16: "高二", 17: "高三"})
RISK_REASONS = {
    RiskGrade.RED: ["监护缺失,独自居住", "家庭暴力风险,已报告民政部门", "重病住院,家中无人照料"],
    RiskGrade.ORANGE: ["父母离异,情绪低落", "祖辈年迈,照料困难", "辍学风险,多次旷课"],
    RiskGrade.YELLOW: ["学习成绩下滑", "与同学交往困难", "家庭经济困难"],
}
CATEGORY_WEIGHTS = {
    CategoryCode.LEFT_BEHIND: 35,
    CategoryCode.MIGRANT: 25,
    CategoryCode.LOW_INCOME: 15,
    CategoryCode.UNSUPPORTED: 6,
    CategoryCode.SERIOUSLY_ILL: 6,
    CategoryCode.DISABLED: 6,
    CategoryCode.ORPHAN: 3,
    CategoryCode.OTHER: 4,
}
NEED_WEIGHTS = {
    NeedCode.STUDY: 30,
    NeedCode.DAILY_LIFE: 25,
    NeedCode.PSYCHOLOGICAL: 20,
    NeedCode.FAMILY_EDUCATION: 12,
    NeedCode.LEGAL: 5,
    NeedCode.SPECIAL_EDUCATION: 8,
}
MOBILE_PREFIXES = ("135", "136", "138", "139", "150", "152", "158", "159", "186", "188", "189", "199")


@dataclass
class Spec:
    child: Child
    categories: list = field(default_factory=list)
    needs: list = field(default_factory=list)
    guardians: list = field(default_factory=list)  # (name, relation, phone, lives_with_child)
    consent: tuple | None = None  # (given_on, method)


def _weighted_sample(rng, weights, k):
    chosen = []
    pool = dict(weights)
    for _ in range(k):
        codes, w = zip(*pool.items(), strict=True)
        code = rng.choices(codes, weights=w)[0]
        chosen.append(code)
        del pool[code]
    return chosen


def _name(rng, sex, surname=None):
    surname = surname or (rng.choice(("欧阳", "司马")) if rng.random() < 0.01 else rng.choice(SURNAMES[:-2]))
    chars = GIRL_CHARS if sex == "female" else BOY_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.75 else "")
    return surname + given


def _mobile(rng):
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _school(village_name, age):
    place = village_name.removesuffix("委会").removesuffix("居").removesuffix("村")
    if age < 6:
        return f"{place}幼儿园", "幼儿园"
    if age < 12:
        return f"{place}小学", GRADES[age]
    if age < 15:
        return f"{place}中学", GRADES[age]
    return "厦门市第二中学" if age % 2 else "同安第一中学", GRADES[age]


def build_specs(villages, rng) -> list[Spec]:
    by_code = {v.division_code: v for v in villages}
    homes = [by_code[code] for code, n in SPECIAL_VILLAGES.items() if code in by_code for _ in range(n)]
    homes += [rng.choice(villages) for _ in range(COUNT - len(homes))]
    seen_ids = set()
    specs = []
    for village in homes:
        sex = rng.choice(("male", "female"))
        age = rng.randint(3, 17)
        birth = REFERENCE - datetime.timedelta(days=age * 365 + rng.randrange(365))
        sequence = rng.randrange(500)
        id_number = make_id_number(village.division_code[:6], birth, sequence, sex)
        while id_number in seen_ids:
            sequence += 1
            id_number = make_id_number(village.division_code[:6], birth, sequence, sex)
        seen_ids.add(id_number)
        name = _name(rng, sex)
        real_age = age_on(birth, REFERENCE)
        school, grade = _school(village.name, real_age)
        grade_draw = rng.random()
        risk = (
            RiskGrade.RED
            if grade_draw < 0.04
            else RiskGrade.ORANGE
            if grade_draw < 0.14
            else RiskGrade.YELLOW
            if grade_draw < 0.42
            else RiskGrade.GREEN
        )
        child = Child(
            name=name,
            sex=sex,
            id_number=id_number,
            birth_date=birth,
            village=village,
            address=f"{village.name.removesuffix('委会')}{rng.randint(1, 300)}号",
            school=school,
            grade=grade,
            risk_grade=risk,
        )
        if risk != RiskGrade.GREEN:
            child.risk_reason = rng.choice(RISK_REASONS[risk])
            child.risk_changed_on = REFERENCE - datetime.timedelta(days=rng.randrange(400))
        categories = _weighted_sample(rng, CATEGORY_WEIGHTS, 1 if rng.random() < 0.7 else 2)
        needs = _weighted_sample(rng, NEED_WEIGHTS, rng.choice((1, 2, 2, 3)))
        surname = name[:2] if name[:2] in ("欧阳", "司马") else name[:1]
        if CategoryCode.LEFT_BEHIND in categories:
            guardians = [(_name(rng, "male", surname), GuardianRelation.GRANDFATHER, _mobile(rng), True)]
            if rng.random() < 0.6:
                guardians.append((_name(rng, "female"), GuardianRelation.MOTHER, _mobile(rng), False))
        elif CategoryCode.ORPHAN in categories or CategoryCode.UNSUPPORTED in categories:
            guardians = [(_name(rng, "female"), GuardianRelation.RELATIVE, _mobile(rng), True)]
        else:
            guardians = [(_name(rng, "female"), GuardianRelation.MOTHER, _mobile(rng), True)]
            if rng.random() < 0.5:
                guardians.append((_name(rng, "male", surname), GuardianRelation.FATHER, _mobile(rng), True))
        # Most families consented; some under-14s are still waiting (flagged in the admin).
        consent = None
        if rng.random() < (0.9 if real_age < CONSENT_AGE else 0.95):
            consent = (
                REFERENCE - datetime.timedelta(days=rng.randrange(700)),
                ConsentMethod.PAPER_FORM if rng.random() < 0.8 else ConsentMethod.IN_PERSON,
            )
        specs.append(Spec(child, categories, needs, guardians, consent))
    return specs


def load(*, out=print):
    villages = list(Federation.objects.filter(level=Level.VILLAGE, kind=FederationKind.TERRITORIAL).order_by("path"))
    if not villages:
        out("困境儿童:尚未载入村(居)级妇联,跳过。")
        return
    specs = build_specs(villages, random.Random(SEED))  # noqa: S311 - demo data, not secrets
    existing = set(
        Child.objects.filter(id_number__in=[s.child.id_number for s in specs]).values_list("id_number", flat=True)
    )
    new = [s for s in specs if s.child.id_number not in existing]
    if new:
        Child.objects.bulk_create([s.child for s in new], batch_size=1000)
        record_bulk_history(Child, [s.child for s in new], reason="演示数据", update=False)
        pks = dict(Child.objects.filter(id_number__in=[s.child.id_number for s in new]).values_list("id_number", "pk"))
        for s in new:
            s.child.pk = pks[s.child.id_number]
        Category = Child.categories.through
        Need = Child.needs.through
        Category.objects.bulk_create(
            [Category(child_id=s.child.pk, category_id=c) for s in new for c in s.categories], batch_size=2000
        )
        Need.objects.bulk_create([Need(child_id=s.child.pk, need_id=n) for s in new for n in s.needs], batch_size=2000)
        Guardian.objects.bulk_create(
            [
                Guardian(child_id=s.child.pk, name=name, relation=relation, phone=phone, lives_with_child=lives)
                for s in new
                for name, relation, phone, lives in s.guardians
            ],
            batch_size=2000,
        )
        first_guardian = {}
        for pk, child_id, name in (
            Guardian.objects.filter(child_id__in=pks.values()).order_by("pk").values_list("pk", "child_id", "name")
        ):
            first_guardian.setdefault(child_id, (pk, name))
        ConsentRecord.objects.bulk_create(
            [
                ConsentRecord(
                    child_id=s.child.pk,
                    guardian_id=first_guardian[s.child.pk][0],
                    given_by=first_guardian[s.child.pk][1],
                    given_on=s.consent[0],
                    method=s.consent[1],
                    purpose="登记儿童及家庭信息,用于“爱心妈妈”结对关爱服务",
                )
                for s in new
                if s.consent
            ],
            batch_size=2000,
        )
    aged_out = age_out_children()
    out(f"困境儿童:{len(specs)} 名(新增 {len(new)},本次年满18周岁退出 {len(aged_out)})")
