import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from aixinmama.identity import make_id_number, mask_id_number, mask_phone
from children.models import Child, ConsentRecord, Guardian
from teams.models import Federation

from .conftest import ChildFactory, ConsentFactory, GuardianFactory, id_for

CHANGELIST = reverse("admin:children_child_changelist")
ADD = reverse("admin:children_child_add")


def shown(response):
    return {child.pk for child in response.context["cl"].result_list}


def management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def child_post_data(child_values, guardians=(), initial_guardians=0):
    data = {
        "address": "",
        "school": "",
        "grade": "",
        "risk_grade": "green",
        "risk_reason": "",
        "status": "in_programme",
        "exit_reason": "",
        "exit_date": "",
        "exit_note": "",
        **child_values,
    }
    data.update(management("guardians", len(guardians), initial_guardians))
    for i, guardian in enumerate(guardians):
        data.update({f"guardians-{i}-{k}": v for k, v in guardian.items()})
    data.update(management("consents"))
    return data


# --- scoping ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_district_staff_lists_only_children_of_own_district(client, siming_children_staff, siming_child, haicang_child):
    client.force_login(siming_children_staff)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert shown(response) == {siming_child.pk}


@pytest.mark.django_db
def test_district_staff_cannot_open_other_district_child_by_url(client, siming_children_staff, haicang_child):
    client.force_login(siming_children_staff)
    for view in ("change", "history", "delete"):
        url = reverse(f"admin:children_child_{view}", args=[haicang_child.pk])
        assert client.get(url).status_code == 404, view
    guardian = GuardianFactory(child=haicang_child)
    assert client.get(reverse("admin:children_guardian_change", args=[guardian.pk])).status_code == 404
    assert Child.objects.filter(pk=haicang_child.pk).exists()


@pytest.mark.django_db
def test_district_staff_cannot_delete_other_district_child_by_post(client, siming_children_staff, haicang_child):
    client.force_login(siming_children_staff)
    response = client.post(reverse("admin:children_child_delete", args=[haicang_child.pk]), {"post": "yes"})
    assert response.status_code == 404
    assert Child.objects.filter(pk=haicang_child.pk).exists()


@pytest.mark.django_db
def test_autocomplete_of_children_is_scoped(client, siming_children_staff, siming_child, haicang_child):
    client.force_login(siming_children_staff)
    url = reverse("admin:autocomplete")
    params = {"app_label": "children", "model_name": "guardian", "field_name": "child"}
    response = client.get(url, {**params, "term": "陈小海"})
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = client.get(url, {**params, "term": "林小雨"})
    assert [item["id"] for item in response.json()["results"]] == [str(siming_child.pk)]
    # The full ID number of a child elsewhere finds nothing either.
    response = client.get(url, {**params, "term": haicang_child.id_number})
    assert response.json()["results"] == []


@pytest.mark.django_db
def test_guardian_list_is_scoped(client, siming_children_staff, siming_child, haicang_child):
    mine = GuardianFactory(child=siming_child)
    GuardianFactory(child=haicang_child)
    client.force_login(siming_children_staff)
    response = client.get(reverse("admin:children_guardian_changelist"))
    assert [g.pk for g in response.context["cl"].result_list] == [mine.pk]


# --- search and filters ---------------------------------------------------------------


@pytest.mark.django_db
def test_search_by_full_id_number_even_though_it_is_displayed_masked(client, siming_children_staff, siming_village):
    target = ChildFactory(village=siming_village, name="张三")
    ChildFactory(village=siming_village, name="李四")
    client.force_login(siming_children_staff)
    assert shown(client.get(CHANGELIST, {"q": target.id_number.lower()})) == {target.pk}
    assert shown(client.get(CHANGELIST, {"q": "张"})) == {target.pk}
    # A fragment of a number is not a search key: masked digits cannot be probed.
    assert shown(client.get(CHANGELIST, {"q": target.id_number[6:14]})) == set()


@pytest.mark.django_db
def test_filters_by_consent_need_category_risk_and_place(client, siming_children_staff, siming_village, siming):
    needy = ChildFactory(village=siming_village, birth_date=datetime.date(2018, 3, 3), risk_grade="red")
    needy.needs.set(["study"])
    needy.categories.set(["left_behind"])
    older = ChildFactory(village=siming_village, birth_date=datetime.date(2009, 3, 3))
    client.force_login(siming_children_staff)
    assert shown(client.get(CHANGELIST, {"consent": "missing"})) == {needy.pk}
    assert shown(client.get(CHANGELIST, {"needs__code__exact": "study"})) == {needy.pk}
    assert shown(client.get(CHANGELIST, {"categories__code__exact": "left_behind"})) == {needy.pk}
    assert shown(client.get(CHANGELIST, {"risk_grade__exact": "red"})) == {needy.pk}
    assert shown(client.get(CHANGELIST, {"district_unit": siming.pk})) == {needy.pk, older.pk}
    assert shown(client.get(CHANGELIST, {"village_unit": siming_village.pk})) == {needy.pk, older.pk}
    other_street = Federation.objects.within(siming).filter(level="street").exclude(pk=siming_village.parent_id).first()
    assert shown(client.get(CHANGELIST, {"street_unit": other_street.pk})) == set()


# --- list columns and masking ---------------------------------------------------------------


@pytest.mark.django_db
def test_list_masks_id_numbers_without_the_permission(client, siming_children_staff, siming_child):
    client.force_login(siming_children_staff)
    content = client.get(CHANGELIST).content.decode()
    assert mask_id_number(siming_child.id_number) in content
    assert siming_child.id_number not in content


@pytest.mark.django_db
def test_list_shows_full_id_numbers_with_the_permission(client, siming_identity_staff, siming_child):
    client.force_login(siming_identity_staff)
    content = client.get(CHANGELIST).content.decode()
    assert siming_child.id_number in content


@pytest.mark.django_db
def test_list_flags_children_under_14_without_consent_and_shows_age_and_risk(
    client, siming_children_staff, siming_village
):
    today = timezone.localdate()
    young = ChildFactory(
        village=siming_village, birth_date=today.replace(year=today.year - 8) - datetime.timedelta(days=3)
    )
    consented = ChildFactory(village=siming_village, birth_date=datetime.date(2017, 1, 1), risk_grade="orange")
    ConsentFactory(child=consented)
    client.force_login(siming_children_staff)
    response = client.get(CHANGELIST)
    rows = {c.pk: c for c in response.context["cl"].result_list}
    content = response.content.decode()
    assert content.count("未取得监护人同意") == 1
    assert rows[young.pk].needs_consent and not rows[consented.pk].needs_consent
    assert rows[young.pk].age == 8
    assert "#ef6c00" in content  # orange badge


@pytest.mark.django_db
def test_change_form_masks_id_and_guardian_phone_without_the_permission(client, siming_children_staff, siming_child):
    guardian = GuardianFactory(child=siming_child, phone="13912345678")
    client.force_login(siming_children_staff)
    content = client.get(reverse("admin:children_child_change", args=[siming_child.pk])).content.decode()
    assert mask_id_number(siming_child.id_number) in content
    assert siming_child.id_number not in content
    assert mask_phone(guardian.phone) in content
    assert guardian.phone not in content
    content = client.get(reverse("admin:children_guardian_change", args=[guardian.pk])).content.decode()
    assert guardian.phone not in content and mask_phone(guardian.phone) in content


@pytest.mark.django_db
def test_view_only_user_sees_masked_values(client, siming, siming_child, staff_factory):
    guardian = GuardianFactory(child=siming_child, phone="13912345678")
    viewer = staff_factory(siming, "viewer", permissions=["children.view_child", "children.view_guardian"])
    client.force_login(viewer)
    content = client.get(reverse("admin:children_child_change", args=[siming_child.pk])).content.decode()
    assert siming_child.id_number not in content and mask_id_number(siming_child.id_number) in content
    assert guardian.phone not in content and mask_phone(guardian.phone) in content


@pytest.mark.django_db
def test_change_form_shows_full_values_with_the_permission(client, siming_identity_staff, siming_child):
    guardian = GuardianFactory(child=siming_child, phone="13912345678")
    client.force_login(siming_identity_staff)
    content = client.get(reverse("admin:children_child_change", args=[siming_child.pk])).content.decode()
    assert siming_child.id_number in content
    assert guardian.phone in content


def guardian_row(guardian, phone):
    return {
        "id": str(guardian.pk),
        "child": str(guardian.child_id),
        "name": guardian.name,
        "relation": guardian.relation,
        "phone": phone,
        "lives_with_child": "on",
    }


def child_values(child):
    return {
        "name": child.name,
        "sex": child.sex,
        "birth_date": child.birth_date.isoformat(),
        "village": str(child.village_id),
    }


@pytest.mark.django_db
def test_saving_with_masked_phone_keeps_the_stored_number_and_a_new_number_replaces_it(
    client, siming_children_staff, siming_child
):
    guardian = GuardianFactory(child=siming_child, phone="13912345678")
    url = reverse("admin:children_child_change", args=[siming_child.pk])
    client.force_login(siming_children_staff)
    data = child_post_data(
        {**child_values(siming_child), "address": "鸿山路1号"},
        guardians=[guardian_row(guardian, mask_phone(guardian.phone))],
        initial_guardians=1,
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    guardian.refresh_from_db()
    siming_child.refresh_from_db()
    assert guardian.phone == "13912345678"
    assert siming_child.address == "鸿山路1号"

    data["guardians-0-phone"] = "136 0000 1111"
    assert client.post(url, data).status_code == 302
    guardian.refresh_from_db()
    assert guardian.phone == "13600001111"

    data["guardians-0-phone"] = "12345"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "手机号码" in str(response.context["inline_admin_formsets"][0].formset.errors)


# --- add form: duplicates, risk, validation --------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_child_with_same_name_and_birth_date_warns_of_a_possible_duplicate(
    client, siming_children_staff, siming_village
):
    existing = ChildFactory(village=siming_village, name="林小雨", birth_date=datetime.date(2015, 6, 1))
    client.force_login(siming_children_staff)
    new_id = make_id_number("350203", existing.birth_date, 321, "female")
    data = child_post_data(
        {
            "name": "林小雨",
            "sex": "female",
            "id_number": new_id,
            "birth_date": "2015-06-01",
            "village": siming_village.pk,
        },
        guardians=[{"name": "林母", "relation": "mother", "phone": "13800001111", "lives_with_child": "on"}],
    )
    response = client.post(ADD, data)
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("可能重复" in t and "林小雨" in t for t in texts), texts
    assert existing.id_number not in " ".join(texts)  # masked in the warning
    created = Child.objects.get(id_number=new_id)
    assert Guardian.objects.get(child=created).phone == "13800001111"

    response = client.get(reverse("admin:children_child_change", args=[existing.pk]))
    assert any("可能重复" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.django_db
def test_no_duplicate_warning_for_a_namesake_outside_the_jurisdiction(
    client, siming_children_staff, siming_village, haicang_village
):
    ChildFactory(village=haicang_village, name="林小雨", birth_date=datetime.date(2015, 6, 1))
    client.force_login(siming_children_staff)
    new_id = make_id_number("350203", datetime.date(2015, 6, 1), 5, "female")
    values = {"name": "林小雨", "sex": "female", "id_number": new_id, "birth_date": "2015-06-01"}
    response = client.post(ADD, child_post_data({**values, "village": siming_village.pk}))
    assert response.status_code == 302
    assert not any("可能重复" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.django_db
def test_add_form_rejects_bad_id_another_districts_village_and_risk_without_reason(
    client, siming_children_staff, siming_village, haicang_village
):
    client.force_login(siming_children_staff)
    good = make_id_number("350203", datetime.date(2015, 6, 1), 9, "male")
    values = {"name": "王小明", "sex": "male", "id_number": good[:-1] + ("0" if good[-1] != "0" else "1")}
    values.update({"birth_date": "2015-06-01", "village": haicang_village.pk, "risk_grade": "red"})
    response = client.post(ADD, child_post_data(values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "校验位错误" in errors["id_number"][0]
    assert "village" in errors
    assert "原因" in errors["risk_reason"][0]
    assert not Child.objects.exists()

    values.update({"id_number": good, "village": siming_village.pk, "risk_reason": "父母均在外务工"})
    assert client.post(ADD, child_post_data(values)).status_code == 302
    child = Child.objects.get(id_number=good)
    assert (child.risk_grade, child.risk_changed_by, child.risk_changed_on) == (
        "red",
        siming_children_staff,
        timezone.localdate(),
    )


@pytest.mark.django_db
def test_consent_inline_offers_only_this_childs_guardians(client, siming_children_staff, siming_child, siming_village):
    own = GuardianFactory(child=siming_child)
    GuardianFactory(child=ChildFactory(village=siming_village))
    client.force_login(siming_children_staff)
    response = client.get(reverse("admin:children_child_change", args=[siming_child.pk]))
    formset = response.context["inline_admin_formsets"][1].formset
    assert list(formset.empty_form.fields["guardian"].queryset) == [own]
    assert ConsentRecord.objects.count() == 0


# --- fixed query count ----------------------------------------------------------------------


def make_children(village, count):
    children = []
    for i in range(count):
        birth = datetime.date(2015, 1, 1) + datetime.timedelta(days=i)
        children.append(
            Child(
                name=f"儿童{i}",
                sex="female",
                birth_date=birth,
                village=village,
                id_number=id_for(village, birth, "female"),
            )
        )
    Child.objects.bulk_create(children)
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                child=c, given_by="监护人", given_on=datetime.date(2024, 1, 1), method="paper_form", purpose="x"
            )
            for c in Child.objects.all()[: count // 2]
        ]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 500])
def test_changelist_runs_a_fixed_number_of_queries(
    client, siming_children_staff, siming_village, django_assert_max_num_queries, count
):
    make_children(siming_village, count)
    client.force_login(siming_children_staff)
    # session, user, 2 permission queries, the user's unit, 3 unit filters, categories, needs,
    # count, the page (consent flag annotated with EXISTS), the idle-timeout session save and
    # 4 savepoints: 17 whatever the size.
    with django_assert_max_num_queries(17):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == min(count, 50)
    with django_assert_max_num_queries(17):
        response = client.get(CHANGELIST, {"consent": "missing", "risk_grade__exact": "green"})
    assert len(response.context["cl"].result_list) == min(count // 2, 50)


def test_viewing_a_child_writes_one_audit_event(client, siming_children_staff, siming_child):
    from teams.models import AuditAction, AuditEvent

    client.force_login(siming_children_staff)
    response = client.get(reverse("admin:children_child_change", args=[siming_child.pk]))
    assert response.status_code == 200
    (event,) = AuditEvent.objects.filter(action=AuditAction.VIEW)
    assert (event.actor, event.model_label, event.object_id) == (
        siming_children_staff,
        "children.Child",
        str(siming_child.pk),
    )
    assert siming_child.id_number not in event.object_repr
