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
