"""Audit events for sign-ins and for changes of roles and permissions.

These record facts; they drive no business rule.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_migrate, post_save, pre_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from .audit import record_event
from .models import AuditAction

User = get_user_model()
WATCHED_FLAGS = ("is_superuser", "is_staff", "is_active", "federation_id")


def _current_request():
    return getattr(HistoricalRecords.context, "request", None)


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs):
    record_event(AuditAction.SIGN_IN, request=request, user=user)


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(AuditAction.SIGN_OUT, request=request, user=user)


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs):
    record_event(AuditAction.SIGN_IN_FAILED, request=request, user=None, username=str(credentials.get("username", "")))


@receiver(m2m_changed, sender=User.groups.through)
def _roles_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    request = _current_request()
    if reverse:  # group.user_set changed: instance is the group
        users = User.objects.filter(pk__in=pk_set or [])
        for user in users:
            record_event(AuditAction.ROLE_CHANGED, request=request, obj=user, change=action, roles=[instance.name])
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    record_event(AuditAction.ROLE_CHANGED, request=request, obj=instance, change=action, roles=names)


@receiver(m2m_changed, sender=User.user_permissions.through)
def _user_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    codenames = sorted(model.objects.filter(pk__in=pk_set or []).values_list("codename", flat=True))
    record_event(
        AuditAction.PERMISSION_CHANGED, request=_current_request(), obj=instance, change=action, permissions=codenames
    )


@receiver(m2m_changed, sender=Group.permissions.through)
def _role_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear") or reverse:
        return
    codenames = sorted(model.objects.filter(pk__in=pk_set or []).values_list("codename", flat=True))
    record_event(
        AuditAction.PERMISSION_CHANGED,
        request=_current_request(),
        obj=instance,
        change=action,
        permissions=codenames,
    )


@receiver(pre_save, sender=User)
def _remember_flags(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_flags = None
        return
    instance._audit_flags = User.objects.filter(pk=instance.pk).values(*WATCHED_FLAGS).first()


@receiver(post_save, sender=User)
def _flags_changed(sender, instance, created, raw=False, **kwargs):
    before = getattr(instance, "_audit_flags", None)
    if raw or created or not before:
        return
    changes = {
        flag: [before[flag], getattr(instance, flag)]
        for flag in WATCHED_FLAGS
        if before[flag] != getattr(instance, flag)
    }
    if changes:
        record_event(
            AuditAction.PERMISSION_CHANGED, request=_current_request(), obj=instance, change="flags", **changes
        )


@receiver(post_migrate)
def _keep_roles_exact(sender, app_config=None, using="default", **kwargs):
    # After every migrate (new models bring new permissions), roles hold exactly what
    # teams/roles.py says. Runs once per migrated app; the last run sees every permission.
    from .roles import sync_roles

    if app_config is not None and app_config.label in {"teams", "children", "pairing"}:
        sync_roles()
