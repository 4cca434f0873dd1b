"""The pairing demo: deterministic, idempotent, within the rules, and telling a story."""

import pytest
from django.db.models import Count, F, Q

import children.demo
import pairing.demo
import teams.demo
from pairing.models import ActivityLog, Donation, DonationAllocation, Pairing
from pairing.selectors import coverage, overdue_pairings
from pairing.services import unit_may_serve
from teams.models import Federation, Volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(xiamen):
    teams.demo.load(out=lambda *_: None)
    children.demo.load(out=lambda *_: None)
    return pairing.demo.load(out=lambda *_: None)


def test_demo_pairs_most_children_and_leaves_work_to_do(demo, xiamen):
    assert demo["pairings"] > 2000 and demo["logs"] > 5000
    result = coverage(xiamen)
    assert 0.8 < result.total.rate < 0.99
    assert result.total.unpaired > 50
    assert 50 < overdue_pairings(unit=xiamen).count() < result.total.paired // 3
    assert ActivityLog.objects.filter(status="submitted").exists()


def test_demo_is_idempotent(demo):
    before = (Pairing.objects.count(), ActivityLog.objects.count(), Donation.objects.count())
    assert pairing.demo.load(out=lambda *_: None) == {"pairings": 0, "logs": 0, "donations": 0}
    assert (Pairing.objects.count(), ActivityLog.objects.count(), Donation.objects.count()) == before


def test_demo_pairings_follow_the_rules(demo):
    over = Volunteer.objects.annotate(n=Count("pairings", filter=Q(pairings__status="active"))).filter(
        n__gt=F("capacity")
    )
    assert not over.exists()
    ineligible = Pairing.objects.filter(volunteer__isnull=False).exclude(volunteer__in=Volunteer.objects.eligible())
    assert not ineligible.exists()
    for p in Pairing.objects.select_related("child__village", "volunteer__federation", "team__federation")[:800]:
        assert unit_may_serve(p.partner.federation, p.child.village) or p.reason


def test_demo_donations_from_the_article(demo):
    cash = Donation.objects.get(donor__name="思明区新东方教育培训学校")
    assert cash.amount == 100000 and cash.receiving_body == "市妇女儿童发展基金会"
    zaoshui = Federation.objects.get(division_code="350212109213")
    gifts = Donation.objects.get(receiving_unit=zaoshui)
    assert "爱心礼包" in gifts.items
    assert 0 < sum(a.quantity for a in DonationAllocation.objects.filter(donation=gifts)) <= gifts.quantity
    assert Pairing.objects.filter(child__village=zaoshui, volunteer__federation__kind="organ").exists()
