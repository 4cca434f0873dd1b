import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from teams.roles import (
    CITY_ADMIN,
    COORDINATOR,
    DISTRICT_STAFF,
    FULL_IDENTITY,
    PARTNER,
    REVIEWER,
    ROLES,
    TEAM_LEADER,
    VOLUNTEER,
    role_permission_keys,
)

from ..conftest import make_staff


def keys(group: Group) -> set[str]:
    return {f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename")}


def all_keys() -> list[str]:
    return [
        f"{app}.{code}"
        for app, code in Permission.objects.filter(
            content_type__app_label__in=["teams", "children", "pairing"]
        ).values_list("content_type__app_label", "codename")
    ]


@pytest.mark.django_db
def test_every_role_exists_with_exactly_its_permissions():
    available = all_keys()
    for role in ROLES:
        group = Group.objects.get(name=role)
        assert keys(group) == role_permission_keys(role, available), role


@pytest.mark.django_db
def test_full_identity_belongs_to_no_role():
    for group in Group.objects.filter(name__in=list(ROLES)):
        assert not keys(group) & FULL_IDENTITY, group.name


@pytest.mark.django_db
def test_volunteer_roles_have_no_admin_permissions_and_partner_sees_no_children():
    assert keys(Group.objects.get(name=VOLUNTEER)) == set()
    assert keys(Group.objects.get(name=TEAM_LEADER)) == set()
    partner = keys(Group.objects.get(name=PARTNER))
    assert partner and not any(key.startswith(("children.", "pairing.")) for key in partner)


@pytest.mark.django_db
def test_only_city_administrators_read_the_audit_log():
    holders = [g.name for g in Group.objects.filter(permissions__codename="view_auditevent")]
    assert holders == [CITY_ADMIN]
    assert not Group.objects.filter(permissions__codename__in=["change_auditevent", "delete_auditevent"]).exists()


@pytest.mark.django_db
def test_coordinator_imports_and_exports_but_never_deletes():
    coordinator = keys(Group.objects.get(name=COORDINATOR))
    assert {"children.add_child", "children.view_child", "teams.add_volunteer"} <= coordinator
    assert not any(".delete_" in key for key in coordinator)


@pytest.mark.django_db
def test_reviewer_can_review_logs_but_not_edit_children():
    reviewer = keys(Group.objects.get(name=REVIEWER))
    assert {"pairing.view_activitylog", "pairing.change_activitylog"} <= reviewer
    assert not any(key.startswith("children.") for key in reviewer)


@pytest.mark.django_db
def test_district_role_opens_its_changelists(client, siming):
    user = make_staff(siming, "role-user")
    user.groups.add(Group.objects.get(name=DISTRICT_STAFF))
    client.force_login(user)
    for name in ["children_child", "teams_volunteer", "pairing_pairing", "pairing_activitylog"]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:teams_auditevent_changelist")).status_code == 403


@pytest.mark.django_db
def test_roles_are_resynced_after_a_manual_change(django_db_blocker):
    from teams.roles import sync_roles

    group = Group.objects.get(name=REVIEWER)
    group.permissions.add(Permission.objects.get(codename="delete_child"))
    sync_roles()
    assert "children.delete_child" not in keys(group)
