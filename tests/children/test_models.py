import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from aixinmama.identity import id_check_char, make_id_number
from children.models import (
    Category,
    CategoryCode,
    Child,
    ChildStatus,
    ConsentRecord,
    Need,
    NeedCode,
    age_on,
    birthday_at,
    mask_name,
)
from teams.models import Federation, FederationKind

from .conftest import ChildFactory, ConsentFactory, GuardianFactory

BIRTH = datetime.date(2015, 6, 1)
VALID = make_id_number("350203", BIRTH, 7, "female")


def build_child(village, **overrides):
    values = {"name": "林小雨", "sex": "female", "birth_date": BIRTH, "id_number": VALID, "village": village}
    values.update(overrides)
    return Child(**values)


def errors_of(child):
    with pytest.raises(ValidationError) as info:
        child.full_clean()
    return info.value.message_dict


def with_check(first17):
    return first17 + id_check_char(first17)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("id_number", "message_part"),
    [
        ("35020320150601", "应为 18 位"),
        ("3502032015060101234", "应为 18 位"),
        ("35020320150601A01X", "前 17 位应为数字"),
        (with_check("35020320151301014"), "不是有效日期"),
        (with_check("35020318000101014"), "不合理"),
        (VALID[:17] + ("1" if VALID[17] != "1" else "2"), "校验位错误"),
    ],
)
def test_invalid_id_numbers_are_rejected_with_a_clear_message(siming_village, id_number, message_part):
    errors = errors_of(build_child(siming_village, id_number=id_number))
    assert any(message_part in m for m in errors["id_number"]), errors


@pytest.mark.django_db
def test_valid_id_number_passes_and_is_normalised_to_upper_case(siming_village):
    first17 = None
    # Find a sequence whose check character is X so the upper-casing is exercised.
    for seq in range(500):
        candidate = make_id_number("350203", BIRTH, seq, "female")
        if candidate.endswith("X"):
            first17 = candidate
            break
    assert first17 is not None
    child = build_child(siming_village, id_number=f"  {first17.lower()} ")
    child.full_clean()
    assert child.id_number == first17


@pytest.mark.django_db
def test_birth_date_and_sex_must_agree_with_id_number(siming_village):
    errors = errors_of(build_child(siming_village, birth_date=datetime.date(2015, 6, 2), sex="male"))
    assert "出生日期与身份证号码不符" in errors["birth_date"][0]
    assert "性别与身份证号码不符" in errors["sex"][0]


@pytest.mark.django_db
def test_id_number_is_unique(siming_village):
    ChildFactory(village=siming_village, id_number=VALID)
    errors = errors_of(build_child(siming_village))
    assert "id_number" in errors
    with pytest.raises(IntegrityError), transaction.atomic():
        ChildFactory(village=siming_village, id_number=VALID)


@pytest.mark.django_db
def test_child_must_live_in_a_village_level_or_non_territorial_unit(siming, siming_village):
    street = siming_village.parent
    for unit in (siming, street):
        errors = errors_of(build_child(unit))
        assert any("村(居)级单位" in m for m in errors["village"]), errors
    build_child(siming_village).full_clean()
    micro_home = Federation.objects.create(
        name="中建三局三公司妇女微家", level="village", kind=FederationKind.MICRO_HOME, parent=street
    )
    organ = Federation.objects.create(
        name="市直机关妇工委", level="district", kind=FederationKind.ORGAN, parent=siming.parent
    )
    build_child(micro_home).full_clean()
    build_child(organ).full_clean()


@pytest.mark.django_db
def test_child_belongs_to_its_village_jurisdiction_chain(siming, haicang, siming_village):
    child = ChildFactory(village=siming_village)
    assert list(Child.objects.within(siming)) == [child]
    assert list(Child.objects.within(siming_village.parent)) == [child]
    assert not Child.objects.within(haicang).exists()


@pytest.mark.django_db
def test_left_status_requires_exit_date_and_reason_in_clean_and_database(siming_village):
    errors = errors_of(build_child(siming_village, status=ChildStatus.LEFT))
    assert "exit_date" in errors and "exit_reason" in errors
    errors = errors_of(build_child(siming_village, exit_date=datetime.date(2024, 1, 1)))
    assert "在册儿童不填写退出日期" in errors["exit_date"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ChildFactory(village=siming_village, status=ChildStatus.LEFT, exit_reason="moved_away")
    with pytest.raises(IntegrityError), transaction.atomic():
        ChildFactory(village=siming_village, exit_date=datetime.date(2024, 1, 1))
    ChildFactory(
        village=siming_village, status=ChildStatus.LEFT, exit_reason="moved_away", exit_date=datetime.date(2024, 1, 1)
    )


@pytest.mark.django_db
def test_choice_tables_hold_exactly_the_choice_codes():
    assert set(Category.objects.values_list("code", flat=True)) == set(CategoryCode.values)
    assert set(Need.objects.values_list("code", flat=True)) == set(NeedCode.values)


@pytest.mark.django_db
def test_children_filter_by_need_and_category(siming_village):
    a = ChildFactory(village=siming_village)
    b = ChildFactory(village=siming_village)
    a.needs.set([NeedCode.STUDY, NeedCode.PSYCHOLOGICAL])
    b.needs.set([NeedCode.DAILY_LIFE])
    a.categories.set([CategoryCode.LEFT_BEHIND])
    assert list(Child.objects.filter(needs=NeedCode.STUDY)) == [a]
    assert list(Child.objects.filter(categories=CategoryCode.LEFT_BEHIND)) == [a]


def test_age_and_birthdays_around_leap_days():
    born = datetime.date(2008, 2, 29)
    assert birthday_at(born, 18) == datetime.date(2026, 3, 1)
    assert age_on(born, datetime.date(2026, 2, 28)) == 17
    assert age_on(born, datetime.date(2026, 3, 1)) == 18
    assert age_on(datetime.date(2010, 6, 1), datetime.date(2024, 5, 31)) == 13
    assert age_on(datetime.date(2010, 6, 1), datetime.date(2024, 6, 1)) == 14
    assert mask_name("欧阳小雨") == "欧***"


@pytest.mark.django_db
def test_consent_flag_for_children_under_14(siming_village):
    today = datetime.date(2024, 6, 1)
    thirteen = ChildFactory(village=siming_village, birth_date=datetime.date(2010, 6, 2))  # 14 tomorrow
    fourteen = ChildFactory(village=siming_village, birth_date=datetime.date(2010, 6, 1))  # 14 today
    consented = ChildFactory(village=siming_village, birth_date=datetime.date(2016, 1, 1))
    ConsentFactory(child=consented)

    assert list(Child.objects.missing_consent(today)) == [thirteen]
    assert thirteen.needs_consent_on(today)
    assert not fourteen.needs_consent_on(today)
    assert not consented.needs_consent_on(today)
    annotated = {c.pk: c for c in Child.objects.with_consent_flag()}
    assert annotated[consented.pk].has_consent and not annotated[thirteen.pk].has_consent


@pytest.mark.django_db
def test_missing_consent_is_one_query(siming_village, django_assert_num_queries):
    for _ in range(5):
        ChildFactory(village=siming_village, birth_date=datetime.date(2018, 1, 1))
    with django_assert_num_queries(1):
        assert len(list(Child.objects.missing_consent(datetime.date(2024, 6, 1)))) == 5


@pytest.mark.django_db
def test_turned_18_by_and_possible_duplicates(siming_village):
    adult = ChildFactory(village=siming_village, birth_date=datetime.date(2006, 6, 1))
    ChildFactory(village=siming_village, birth_date=datetime.date(2006, 6, 2))
    assert list(Child.objects.turned_18_by(datetime.date(2024, 6, 1))) == [adult]
    twin = ChildFactory(village=siming_village, name="林小雨", birth_date=BIRTH)
    assert list(Child.objects.possible_duplicates_of(" 林小雨 ", BIRTH)) == [twin]


@pytest.mark.django_db
def test_guardian_phone_is_validated_and_normalised(siming_village):
    guardian = GuardianFactory.build(child=ChildFactory(village=siming_village), phone="139 1234 5678")
    guardian.full_clean()
    assert guardian.phone == "13912345678"
    guardian.phone = "1234"
    with pytest.raises(ValidationError) as info:
        guardian.full_clean()
    assert "手机号码" in info.value.message_dict["phone"][0]


@pytest.mark.django_db
def test_consent_needs_a_person_and_the_childs_own_guardian(siming_village):
    child = ChildFactory(village=siming_village)
    other_guardian = GuardianFactory(child=ChildFactory(village=siming_village))
    record = ConsentRecord(child=child, given_on=datetime.date(2024, 1, 1), method="paper_form", purpose="结对关爱")
    with pytest.raises(ValidationError) as info:
        record.full_clean()
    assert "given_by" in info.value.message_dict
    record.guardian = other_guardian
    with pytest.raises(ValidationError) as info:
        record.full_clean()
    assert "不是该儿童的监护人" in info.value.message_dict["guardian"][0]
    record.guardian = GuardianFactory(child=child)
    record.full_clean()
    assert record.given_by == record.guardian.name
    record.save()
    # Removing the guardian later keeps the record and who consented.
    record.guardian.delete()
    record.refresh_from_db()
    assert record.guardian is None and record.given_by_name
