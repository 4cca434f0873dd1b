import pytest
from django.urls import reverse

from teams.models import Federation


@pytest.mark.django_db
def test_district_staff_lists_only_own_district_units(client, siming_staff, siming, haicang):
    client.force_login(siming_staff)
    response = client.get(reverse("admin:teams_federation_changelist"), {"all": ""})
    assert response.status_code == 200
    shown = {unit.pk for unit in response.context["cl"].result_list}
    assert siming.pk in shown
    assert haicang.pk not in shown
    assert shown <= set(Federation.objects.within(siming).values_list("pk", flat=True))


@pytest.mark.django_db
def test_district_staff_cannot_open_other_district_unit_by_url(client, siming_staff, haicang):
    client.force_login(siming_staff)
    for view in ("change", "history", "delete"):
        url = reverse(f"admin:teams_federation_{view}", args=[haicang.pk])
        assert client.get(url).status_code == 404, view


@pytest.mark.django_db
def test_district_staff_opens_own_village(client, siming_staff, siming):
    village = Federation.objects.within(siming).filter(level="village").first()
    client.force_login(siming_staff)
    response = client.get(reverse("admin:teams_federation_change", args=[village.pk]))
    assert response.status_code == 200


@pytest.mark.django_db
def test_autocomplete_of_units_is_scoped(client, siming_staff, haicang):
    client.force_login(siming_staff)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "teams", "model_name": "user", "field_name": "federation", "term": haicang.name[:2]},
    )
    assert response.status_code == 200
    names = [item["text"] for item in response.json()["results"]]
    assert haicang.name not in names


@pytest.mark.django_db
def test_admin_pages_render_in_chinese(client, siming_staff):
    client.force_login(siming_staff)
    index = client.get(reverse("admin:index"))
    assert "厦门市“爱心妈妈”结对关爱管理系统" in index.content.decode()
    page = client.get(reverse("admin:teams_federation_changelist")).content.decode()
    assert "妇联组织" in page
    assert "下级单位数" in page
    assert "按 层级" in page or "层级" in page
    assert 'lang="zh-hans"' in page


@pytest.mark.django_db
def test_units_below_column_counts_the_subtree(client, city_admin, siming):
    client.force_login(city_admin)
    response = client.get(reverse("admin:teams_federation_changelist"), {"level__exact": "district"})
    rows = {unit.pk: unit.units_below_count for unit in response.context["cl"].result_list}
    assert rows[siming.pk] == Federation.objects.within(siming).count() - 1


@pytest.mark.django_db
def test_unit_changelist_query_count_does_not_grow_with_rows(client, city_admin, django_assert_max_num_queries):
    client.force_login(city_admin)
    url = reverse("admin:teams_federation_changelist")
    with django_assert_max_num_queries(12):
        client.get(url, {"level__exact": "district"})  # 6 rows
    with django_assert_max_num_queries(12):
        client.get(url, {"level__exact": "village"})  # a full page of 100 rows


@pytest.mark.django_db
def test_district_filter_lists_only_visible_districts(client, siming_staff, siming, haicang):
    client.force_login(siming_staff)
    response = client.get(reverse("admin:teams_federation_changelist"))
    page = response.content.decode()
    assert f"district_unit={siming.pk}" in page
    assert f"district_unit={haicang.pk}" not in page


@pytest.mark.django_db
def test_staff_cannot_create_a_unit_outside_their_jurisdiction(client, siming_staff, haicang):
    client.force_login(siming_staff)
    response = client.post(
        reverse("admin:teams_federation_add"),
        {
            "name": "越权社区",
            "level": "village",
            "kind": "territorial",
            "division_code": "350205001999",
            "parent": haicang.pk,
        },
    )
    assert response.status_code == 200  # the form is shown again with an error
    assert "parent" in response.context["adminform"].form.errors
    assert not Federation.objects.filter(name="越权社区").exists()


@pytest.mark.django_db
def test_admin_is_chinese_even_for_an_english_browser_and_english_on_request(client, siming_staff, settings):
    client.force_login(siming_staff)
    url = reverse("admin:teams_federation_changelist")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "选择 妇联组织 来修改" in page and "Select" not in page
    client.post("/i18n/setlang/", {"language": "en", "next": url})
    assert "Select 妇联组织 to change" in client.get(url).content.decode()
