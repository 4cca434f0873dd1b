"""Jurisdiction on every admin endpoint, generated from the admin registry and URL patterns.

A 思明区 staff member holding every permission of the programme's apps (so that nothing is
refused for lack of permission) walks every registered admin against a record of another
district: changelist, change, history, delete, each custom view that takes a record, each
action, autocomplete and export. Each must answer 404/403 or leave the record out. A new
model admin is covered as soon as it is registered (and the demo data holds one of its
records outside 思明区); an admin that is not jurisdiction-scoped must be listed below with
the reason, or the test fails.
"""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from teams.admin_mixins import JurisdictionAdminMixin
from teams.models import Federation
from teams.selectors import visible_to

from ..conftest import XIAMEN_CSV, make_staff

# Admins that are not scoped by jurisdiction, and why that is safe.
UNSCOPED = {
    "auth.Group": "roles: names and permissions, no personal data; city administrators only",
    "teams.AuditEvent": "the audit log: city administrators only (view_auditevent is in no other role)",
    "pairing.CadenceSetting": "contact cadence per risk grade: one city-wide setting, no personal data",
}
# Admins of other libraries: the district staff member holds none of their permissions.
FOREIGN_APPS = {"axes", "otp_totp", "otp_static", "otp_hotp", "django_otp", "simple_history"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Xiamen with the demo records, loaded once for the module and rolled back after it."""
    import children.demo
    import pairing.demo
    import teams.demo
    from teams.divisions import import_divisions

    with django_db_blocker.unblock(), transaction.atomic():
        import_divisions(XIAMEN_CSV)
        for module in (teams.demo, children.demo, pairing.demo):
            module.load(out=lambda *args, **kwargs: None)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def district_user(world, db):
    siming = Federation.objects.get(division_code="350203")
    user = make_staff(siming, "siming-everything")
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["teams", "children", "pairing"]).exclude(
            codename__in=["view_full_identity", "view_auditevent"]
        )
    )
    return user


@pytest.fixture
def superuser(world, db):
    return make_staff(Federation.objects.get(division_code="3502"), "city-everything", superuser=True)


def scoped_admins():
    return [(m, a) for m, a in admin.site._registry.items() if isinstance(a, JurisdictionAdminMixin)]


def request_for(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def outsider(model_admin, user, superuser):
    """A record this admin shows the superuser but not `user`, or None."""
    everything = model_admin.get_queryset(request_for(superuser))
    visible = visible_to(model_admin.model._default_manager.all(), user).values("pk")
    return everything.exclude(pk__in=visible).order_by("pk").first()


def label(model):
    return model._meta.label


def info(model):
    return model._meta.app_label, model._meta.model_name


@pytest.mark.django_db
def test_every_admin_is_scoped_or_listed(world):
    unexplained = [
        label(model)
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, JurisdictionAdminMixin)
        and label(model) not in UNSCOPED
        and model._meta.app_label not in FOREIGN_APPS
        and label(model) != "teams.Federation"
    ]
    assert unexplained == []


@pytest.mark.django_db
def test_district_staff_cannot_open_unscoped_admins_they_have_no_role_for(client, district_user):
    client.force_login(district_user)
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, JurisdictionAdminMixin) or label(model) == "pairing.CadenceSetting":
            continue
        url = reverse("admin:{}_{}_changelist".format(*info(model)))
        assert client.get(url).status_code == 403, label(model)


@pytest.mark.django_db
def test_changelist_and_object_urls_hide_other_districts(client, district_user, superuser):
    client.force_login(district_user)
    missing = []
    for model, model_admin in scoped_admins():
        foreign = outsider(model_admin, district_user, superuser)
        if foreign is None:
            missing.append(label(model))
            continue
        app, name = info(model)
        response = client.get(reverse(f"admin:{app}_{name}_changelist"))
        assert response.status_code == 200, label(model)
        assert not response.context["cl"].queryset.filter(pk=foreign.pk).exists(), label(model)
        for view in ("change", "history"):
            url = reverse(f"admin:{app}_{name}_{view}", args=[foreign.pk])
            assert client.get(url).status_code == 404, (label(model), view)
        # Deleting: 404 out of jurisdiction, or 403 where nobody may delete (pairings, logs).
        delete_page = client.get(reverse(f"admin:{app}_{name}_delete", args=[foreign.pk]))
        assert delete_page.status_code in (403, 404), label(model)
        delete = client.post(reverse(f"admin:{app}_{name}_delete", args=[foreign.pk]), {"post": "yes"})
        assert delete.status_code in (403, 404), label(model)
        assert model._default_manager.filter(pk=foreign.pk).exists(), label(model)
    assert missing == [], f"the demo data has no record outside 思明区 for: {missing}"


@pytest.mark.django_db
def test_custom_admin_views_refuse_other_districts_records(client, district_user, superuser):
    client.force_login(district_user)
    checked = []
    standard = {"changelist", "add", "change", "history", "delete", "autocomplete", "import", "export"}
    for model, model_admin in scoped_admins():
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None) or ""
            params = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
            if not name or not params or any(name.endswith(f"_{s}") for s in standard):
                continue
            kwargs = {}
            for param in params:
                target = _model_for_param(param, model)
                target_admin = admin.site._registry[target]
                foreign = outsider(target_admin, district_user, superuser)
                assert foreign is not None, (name, param)
                kwargs[param] = foreign.pk
            response = client.get(reverse(f"admin:{name}", kwargs=kwargs))
            assert response.status_code in (403, 404), (name, response.status_code)
            checked.append(name)
    assert checked, "no custom admin view takes a record"


def _model_for_param(param, default_model):
    if param in ("object_id", "pk", "id"):
        return default_model
    name = param.removesuffix("_id")
    aliases = {"unit": "federation", "village": "federation"}
    name = aliases.get(name, name)
    for model in admin.site._registry:
        if model._meta.model_name == name:
            return model
    raise AssertionError(f"cannot tell which model the URL parameter {param!r} names")


@pytest.mark.django_db
def test_actions_do_nothing_to_other_districts_records(client, district_user, superuser):
    client.force_login(district_user)
    for model, model_admin in scoped_admins():
        foreign = outsider(model_admin, district_user, superuser)
        actions = [name for name in model_admin.get_actions(request_for(district_user)) if name != "delete_selected"]
        actions.append("delete_selected")
        before = model._default_manager.filter(pk=foreign.pk).values().first()
        for action in actions:
            client.post(
                reverse("admin:{}_{}_changelist".format(*info(model))),
                {"action": action, "_selected_action": [foreign.pk], "index": 0, "post": "yes"},
            )
            after = model._default_manager.filter(pk=foreign.pk).values().first()
            assert after == before, (label(model), action)


def _autocomplete_sources():
    """(source admin's model, field name, target model) for every autocomplete field."""
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            field = model._meta.get_field(field_name)
            yield model, field_name, field.remote_field.model


def _search_term(model_admin, obj):
    for lookup in model_admin.search_fields:
        path = lookup.lstrip("^=@")
        value = type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True).first()
        if value:
            return str(value)
    return None


@pytest.mark.django_db
def test_autocomplete_never_offers_other_districts_records(client, district_user, superuser):
    client.force_login(district_user)
    checked = 0
    for source, field_name, target in _autocomplete_sources():
        target_admin = admin.site._registry[target]
        if not isinstance(target_admin, JurisdictionAdminMixin):
            continue
        params = {"app_label": source._meta.app_label, "model_name": source._meta.model_name, "field_name": field_name}
        url = reverse("admin:autocomplete")
        foreign = outsider(target_admin, district_user, superuser)
        term = _search_term(target_admin, foreign)
        response = client.get(url, {**params, "term": term})
        assert response.status_code in (200, 403), (label(source), field_name)
        if response.status_code == 200:
            ids = {item["id"] for item in response.json()["results"]}
            assert str(foreign.pk) not in ids, (label(source), field_name, term)
            # Without a term the same endpoint does list records of one's own district: the check can see.
            own = client.get(url, {**params, "term": ""}).json()["results"]
            if target_admin.get_queryset(request_for(district_user)).exists():
                assert own, (label(source), field_name)
            own_pks = [int(item["id"]) for item in own]
            assert visible_to(target._default_manager.filter(pk__in=own_pks), district_user).count() == len(own_pks)
            checked += 1
    assert checked >= 10


@pytest.mark.django_db
def test_exports_leave_out_other_districts_records(district_user, superuser):
    exported = 0
    for model, model_admin in scoped_admins():
        if not hasattr(model_admin, "get_export_queryset"):
            continue
        foreign = outsider(model_admin, district_user, superuser)
        queryset = model_admin.get_export_queryset(request_for(district_user))
        assert not queryset.filter(pk=foreign.pk).exists(), label(model)
        exported += 1
    assert exported >= 4
