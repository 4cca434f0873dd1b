"""Writing audit events: one function, called by signals, admin mixins, services and views."""

from django.contrib.auth.models import AnonymousUser

from .models import AuditAction, AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    # django-axes resolves the address behind trusted proxies; fall back to the socket address.
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR") or None


def record_event(
    action: AuditAction | str,
    *,
    request=None,
    user=None,
    obj=None,
    model=None,
    object_repr: str | None = None,
    row_count: int | None = None,
    username: str | None = None,
    **details,
) -> AuditEvent:
    """Append one event. `user` defaults to the request's user; `obj` names the record
    (its str() must not expose identity numbers); `details` is stored as JSON."""
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if isinstance(user, AnonymousUser) or (user is not None and not user.is_authenticated):
        user = None
    model = model or (type(obj) if obj is not None else None)
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_username=(user.get_username() if user is not None else (username or ""))[:150],
        actor_unit_id=getattr(user, "federation_id", None),
        ip_address=client_ip(request),
        model_label=model._meta.label if model is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr if object_repr is not None else (str(obj) if obj is not None else ""))[:200],
        row_count=row_count,
        details=details,
    )


def record_events_bulk(
    action: AuditAction | str, *, user=None, objs=(), reprs: dict | None = None, request=None, **details
) -> int:
    """One event per object, written in one bulk insert (for bulk services). `reprs` maps a
    primary key to its description when str(obj) would cost a query per object."""
    objs = list(objs)
    if not objs:
        return 0
    if user is not None and not user.is_authenticated:
        user = None
    common = {
        "action": action,
        "actor": user,
        "actor_username": user.get_username() if user is not None else "",
        "actor_unit_id": getattr(user, "federation_id", None),
        "ip_address": client_ip(request),
        "model_label": type(objs[0])._meta.label,
        "details": details,
    }
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(object_id=str(obj.pk), object_repr=(reprs[obj.pk] if reprs else str(obj))[:200], **common)
            for obj in objs
        ],
        batch_size=1000,
    )
    return len(objs)
