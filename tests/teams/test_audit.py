"""The audit log: each audited event writes exactly one entry with the right fields, and
nobody can change or delete entries."""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.urls import reverse

from teams.admin_audit import AuditEventResource
from teams.models import AppendOnlyError, AuditAction, AuditEvent, User
from teams.resources import VolunteerResource

from ..conftest import make_staff
from .conftest import VolunteerFactory
from .test_volunteers_import_export import HEADERS, rows, siming_user, xlsx_bytes  # noqa: F401

PASSWORD = "a-good-long-password-1"


# Migrations (the role sync) leave audit events in the test database: look only at new ones.
_BASELINE = {"pk": 0}


@pytest.fixture(autouse=True)
def _only_new_events(db):
    _BASELINE["pk"] = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0


def events(action):
    return list(AuditEvent.objects.filter(action=action, pk__gt=_BASELINE["pk"]))


@pytest.fixture
def wang(siming):
    user = make_staff(siming, "wang")
    user.set_password(PASSWORD)
    user.save()
    AuditEvent.objects.all()  # nothing to clean: the fixture's own changes are not audited events
    return user


@pytest.mark.django_db
def test_sign_in_writes_one_event(client, wang, siming):
    before = AuditEvent.objects.count()
    client.post(reverse("admin:login"), {"username": "wang", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert AuditEvent.objects.count() == before + 1
    (event,) = events(AuditAction.SIGN_IN)
    assert (event.actor, event.actor_username, event.actor_unit, event.ip_address) == (wang, "wang", siming, "10.1.2.3")


@pytest.mark.django_db
def test_failed_sign_in_writes_one_event_without_the_password(client, wang):
    client.post(reverse("admin:login"), {"username": "wang", "password": "wrong-password"}, REMOTE_ADDR="10.1.2.4")
    (event,) = events(AuditAction.SIGN_IN_FAILED)
    assert event.actor is None
    assert event.actor_username == "wang"
    assert event.ip_address == "10.1.2.4"
    assert "wrong-password" not in str(event.details)


@pytest.mark.django_db
def test_sign_out_writes_one_event(client, wang):
    client.force_login(wang)
    client.post(reverse("admin:logout"))
    (event,) = events(AuditAction.SIGN_OUT)
    assert event.actor == wang


@pytest.mark.django_db
def test_export_writes_one_event_with_model_filters_and_rows(client, siming, siming_village):
    user = make_staff(siming, "exporter", permissions=["teams.view_volunteer"])
    VolunteerFactory(federation=siming_village)
    VolunteerFactory(federation=siming_village)
    VolunteerFactory(federation=siming_village, status="applied")  # filtered out
    client.force_login(user)
    fields = {f"volunteerresource_{name}": "on" for name in VolunteerResource().get_export_order()}
    response = client.post(
        reverse("admin:teams_volunteer_export") + "?status__exact=active", {"format": 0, "resource": 0, **fields}
    )
    assert response.status_code == 200
    (event,) = events(AuditAction.EXPORT)
    assert (event.actor, event.model_label, event.row_count) == (user, "teams.Volunteer", 2)
    assert event.details["filters"] == {"status__exact": ["active"]}


@pytest.mark.django_db
def test_import_writes_one_event_with_file_name_and_rows(client, siming_user, rows):  # noqa: F811
    client.force_login(siming_user)
    upload = io.BytesIO(xlsx_bytes(HEADERS, rows))
    upload.name = "2025年爱心妈妈.xlsx"
    dry_run = client.post(reverse("admin:teams_volunteer_import"), {"format": 0, "resource": 0, "import_file": upload})
    assert dry_run.status_code == 200
    assert events(AuditAction.IMPORT) == []  # a dry run imports nothing and records nothing
    confirm = dry_run.context["confirm_form"]
    response = client.post(reverse("admin:teams_volunteer_process_import"), confirm.initial)
    assert response.status_code == 302
    (event,) = events(AuditAction.IMPORT)
    assert (event.model_label, event.row_count, event.details["file_name"]) == ("teams.Volunteer", 3, upload.name)
    assert event.details["created"] == 3


@pytest.mark.django_db
def test_role_and_permission_changes_write_one_event_each(siming):
    user = make_staff(siming, "li")
    role = Group.objects.create(name="测试角色")
    AuditEvent.objects.count()
    user.groups.add(role)
    (event,) = events(AuditAction.ROLE_CHANGED)
    assert (event.object_id, event.details["roles"], event.details["change"]) == (
        str(user.pk),
        ["测试角色"],
        "post_add",
    )

    permission = Permission.objects.get(codename="view_full_identity", content_type__app_label="teams")
    user.user_permissions.add(permission)
    role.permissions.add(Permission.objects.get(codename="view_volunteer"))
    changed = events(AuditAction.PERMISSION_CHANGED)
    assert [e.details["permissions"] for e in changed] == [["view_volunteer"], ["view_full_identity"]]

    user.is_superuser = True
    user.save()
    latest = events(AuditAction.PERMISSION_CHANGED)[0]
    assert latest.details["is_superuser"] == [False, True]


@pytest.mark.django_db
def test_audit_entries_cannot_be_changed_or_deleted_in_code(wang):
    event = AuditEvent.objects.create(action=AuditAction.VIEW, actor=wang, actor_username="wang")
    event.object_repr = "篡改"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="篡改")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_database_refuses_changes_on_postgresql(wang):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    event = AuditEvent.objects.create(action=AuditAction.VIEW, actor=wang, actor_username="wang")
    for statement in (
        "UPDATE teams_auditevent SET object_repr = 'x' WHERE id = %s",
        "DELETE FROM teams_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [event.pk])


@pytest.mark.django_db
def test_even_a_superuser_cannot_change_or_delete_through_the_admin(client, city_admin, wang):
    event = AuditEvent.objects.create(action=AuditAction.VIEW, actor=wang, actor_username="wang")
    client.force_login(city_admin)
    change = client.post(reverse("admin:teams_auditevent_change", args=[event.pk]), {"object_repr": "篡改"})
    assert change.status_code == 403 or AuditEvent.objects.get(pk=event.pk).object_repr == ""
    assert client.post(reverse("admin:teams_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:teams_auditevent_add")).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, object_repr="").exists()
    assert client.get(reverse("admin:teams_auditevent_changelist")).status_code == 200


@pytest.mark.django_db
def test_only_city_administrators_see_and_export_the_audit_log(client, siming_staff, city_admin):
    client.force_login(siming_staff)
    assert client.get(reverse("admin:teams_auditevent_changelist")).status_code == 403
    assert client.post(reverse("admin:teams_auditevent_export"), {"format": 0}).status_code == 403
    client.force_login(city_admin)
    fields = {f"auditeventresource_{name}": "on" for name in AuditEventResource().get_export_order()}
    response = client.post(reverse("admin:teams_auditevent_export"), {"format": 1, "resource": 0, **fields})
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    exports = events(AuditAction.EXPORT)
    assert [e.model_label for e in exports] == ["teams.AuditEvent"]


@pytest.mark.django_db
def test_user_with_audit_trail_cannot_be_deleted(wang):
    AuditEvent.objects.create(action=AuditAction.VIEW, actor=wang, actor_username="wang")
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        User.objects.filter(pk=wang.pk).delete()
