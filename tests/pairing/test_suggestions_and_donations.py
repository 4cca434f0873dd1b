"""Suggestion ranking, bulk pairing with the community team, donation allocation limits and totals."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from children.models import Need
from pairing.models import Donation, Donor, Pairing
from pairing.selectors import donation_totals, suggestions_for
from pairing.services import allocate_donation, create_pairing, pair_village_with_community_team
from teams.models import SkillArea, TeamKind
from tests.pairing.conftest import ChildFactory, TeamFactory, VolunteerFactory, eligible_volunteer

pytestmark = pytest.mark.django_db
T = timezone.localdate()


def test_suggestions_ranked_by_proximity_need_and_capacity(
    places, siming, xiamen, city_admin, django_assert_num_queries
):
    child = ChildFactory(village=places["a1"])
    child.needs.add(Need.objects.get(code="psychological"))
    eligible_volunteer(places["a1"], name="同村", capacity=1)
    eligible_volunteer(places["a2"], name="同街道", capacity=3)
    eligible_volunteer(places["b1"], name="同区", capacity=3)
    eligible_volunteer(places["a1"], name="同村名额多", capacity=4)
    TeamFactory(federation=siming, name="心理队", kind=TeamKind.SPECIALTY, category="counselling")
    TeamFactory(federation=siming, name="文化队", kind=TeamKind.SPECIALTY, category="culture")
    TeamFactory(federation=xiamen, name="市级队", category="legal_aid")
    skilled = eligible_volunteer(places["b1"], name="同区心理", capacity=1)
    skilled.skills.add(SkillArea.objects.ensure_all().get(code="counselling"))
    # Not suggested: another district, ineligible, full, already paired with the child.
    eligible_volunteer(places["h1"], name="海沧")
    VolunteerFactory(federation=places["a1"], name="未查询")
    full = eligible_volunteer(places["a1"], name="已满", capacity=1)
    create_pairing(child=ChildFactory(village=places["a1"]), volunteer=full, by=city_admin)
    paired = eligible_volunteer(places["a1"], name="已结对", capacity=3)
    create_pairing(child=child, volunteer=paired, by=city_admin)

    with django_assert_num_queries(4):
        names = [s.obj.name for s in suggestions_for(child, today=T)]
    assert names == ["同村名额多", "同村", "同街道", "心理队", "同区心理", "文化队", "同区", "市级队"]
    assert not {"海沧", "未查询", "已满", "已结对"} & set(names)


def test_bulk_pairing_pairs_only_unpaired_children_up_to_capacity(places, community_team, city_admin):
    already = ChildFactory(village=places["a1"])
    create_pairing(child=already, volunteer=eligible_volunteer(places["a1"]), by=city_admin)
    kids = [ChildFactory(village=places["a1"]) for _ in range(2)]
    ChildFactory(village=places["a2"])  # another village: untouched
    result = pair_village_with_community_team(village=places["a1"], by=city_admin)
    assert result["created"] == 2 and result["over_capacity"] == 0
    assert set(Pairing.objects.filter(team=community_team).values_list("child_id", flat=True)) == {k.pk for k in kids}
    again = pair_village_with_community_team(village=places["a1"], by=city_admin)
    assert again["created"] == 0
    # The bulk insert still leaves a change-history row and an audit event per pairing.
    from teams.models import AuditAction, AuditEvent

    for kid in kids:
        pairing = Pairing.objects.get(child=kid, team=community_team)
        assert [(h.history_type, h.history_user) for h in pairing.history.all()] == [("+", city_admin)]
        event = AuditEvent.objects.get(action=AuditAction.PAIRING_CREATED, object_id=str(pairing.pk))
        assert event.actor == city_admin and kid.name in event.object_repr


def test_bulk_pairing_needs_a_community_team(places, city_admin):
    with pytest.raises(ValidationError) as exc:
        pair_village_with_community_team(village=places["b1"], by=city_admin)
    assert "还没有社区“爱心妈妈”队伍" in " ".join(exc.value.messages)


@pytest.fixture
def gift_packs(places, tongan):
    donor = Donor.objects.create(kind="enterprise", name="某爱心企业", federation=tongan)
    return Donation.objects.create(
        donor=donor,
        date=T,
        kind="in_kind",
        items="爱心礼包",
        quantity=30,
        estimated_value=Decimal("6000"),
        receiving_unit=tongan,
        federation=tongan,
    )


def test_allocation_may_not_exceed_the_donation(gift_packs, places, city_admin):
    allocate_donation(donation=gift_packs, by=city_admin, village=places["a1"], quantity=20)
    with pytest.raises(ValidationError) as exc:
        allocate_donation(donation=gift_packs, by=city_admin, village=places["a2"], quantity=11)
    assert "将超过捐赠数量 30(已分配 20)" in " ".join(exc.value.message_dict["quantity"])
    allocate_donation(donation=gift_packs, by=city_admin, village=places["a2"], quantity=10)
    with pytest.raises(ValidationError) as exc:
        allocate_donation(donation=gift_packs, by=city_admin, village=places["a2"], amount=Decimal("6000.01"))
    assert "超过捐赠金额 6000" in " ".join(exc.value.message_dict["amount"])


def test_allocation_needs_exactly_one_recipient(gift_packs, places, city_admin):
    with pytest.raises(ValidationError) as exc:
        allocate_donation(donation=gift_packs, by=city_admin, quantity=1)
    assert "三者选一" in " ".join(exc.value.message_dict["child"])


def test_donation_totals_by_donor_receiver_and_year(gift_packs, siming):
    donor = Donor.objects.create(kind="enterprise", name="思明区新东方教育培训学校", federation=siming)
    for day, amount in [(datetime.date(2024, 5, 1), "100000"), (datetime.date(2025, 1, 2), "20000.50")]:
        Donation.objects.create(
            donor=donor,
            date=day,
            kind="cash",
            amount=Decimal(amount),
            receiving_body="市妇女儿童发展基金会",
            federation=siming,
        )
    totals = donation_totals()
    assert [(r["donor__name"], r["total"]) for r in totals["by_donor"]] == [
        ("思明区新东方教育培训学校", Decimal("120000.50")),
        ("某爱心企业", Decimal("6000")),
    ]
    assert {r["receiver"]: r["total"] for r in totals["by_receiver"]} == {
        "市妇女儿童发展基金会": Decimal("120000.50"),
        "同安区": Decimal("6000"),
    }
    assert {r["year"]: r["total"] for r in totals["by_year"]}[2024] == Decimal("100000")
