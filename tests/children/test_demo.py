import random
import time
from collections import Counter

import pytest
from django.utils import timezone

from aixinmama.identity import check_id_agrees, validate_id_number, validate_mobile
from children import demo
from children.models import Child, ChildStatus, ConsentRecord, Guardian
from teams.models import Federation


@pytest.mark.django_db
def test_demo_children_are_valid_spread_and_idempotent(xiamen):
    lines = []
    started = time.perf_counter()
    demo.load(out=lines.append)
    assert time.perf_counter() - started < 30
    assert Child.objects.count() == demo.COUNT
    assert "新增 3000" in lines[0]

    children = list(Child.objects.select_related("village"))
    for child in children[::7]:
        validate_id_number(child.id_number)
        assert check_id_agrees(child.id_number, birth_date=child.birth_date, sex=child.sex) == {}
        child.full_clean()
    assert len({c.village_id for c in children}) > 400
    assert Child.objects.filter(village__division_code="350212109213").count() >= 8  # 造水村
    assert Child.objects.filter(village__division_code="350205001205").count() >= 6  # 渐美村

    risks = Counter(c.risk_grade for c in children)
    assert risks["green"] + risks["yellow"] > 0.8 * len(children)
    assert risks["red"] > 0 and risks["orange"] > 0
    assert Child.objects.filter(needs__isnull=False).distinct().count() == len(children)
    assert Child.objects.filter(categories__isnull=False).distinct().count() == len(children)
    assert Child.objects.missing_consent(timezone.localdate()).exists()
    assert ConsentRecord.objects.count() > 0.8 * len(children)
    for guardian in Guardian.objects.all()[:200]:
        validate_mobile(guardian.phone)
    in_programme = Child.objects.in_programme()
    assert not in_programme.turned_18_by(timezone.localdate()).exists()
    assert in_programme.count() + Child.objects.filter(status=ChildStatus.LEFT).count() == len(children)

    guardians, consents = Guardian.objects.count(), ConsentRecord.objects.count()
    lines.clear()
    demo.load(out=lines.append)
    assert "新增 0" in lines[0]
    assert Child.objects.count() == demo.COUNT
    assert (Guardian.objects.count(), ConsentRecord.objects.count()) == (guardians, consents)


@pytest.mark.django_db
def test_demo_is_deterministic(xiamen):
    villages = list(Federation.objects.filter(level="village").order_by("path"))
    first = [s.child.id_number for s in demo.build_specs(villages, random.Random(demo.SEED))]
    second = [s.child.id_number for s in demo.build_specs(villages, random.Random(demo.SEED))]
    assert first == second
    assert len(set(first)) == demo.COUNT
