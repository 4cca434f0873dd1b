"""Who may see what: the one place that scopes querysets to a user's jurisdiction.

Admin classes (through `teams.admin_mixins.JurisdictionAdminMixin`) and plain views call
`visible_to(queryset, user)`; nothing else filters by jurisdiction on its own.
"""

from .models import Federation, JurisdictionQuerySet


def jurisdiction_of(user) -> Federation | None:
    """The unit whose subtree `user` may see; None means nothing (or, for a superuser, all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return user.federation


def sees_everything(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def visible_to(queryset: JurisdictionQuerySet, user):
    """Rows of `queryset` within `user`'s jurisdiction: all for a superuser, none without a unit."""
    if not isinstance(queryset, JurisdictionQuerySet):
        raise TypeError(
            f"{queryset.model.__name__} has no jurisdiction: its queryset must subclass JurisdictionQuerySet"
        )
    if sees_everything(user):
        return queryset
    return queryset.within(jurisdiction_of(user))


def units_visible_to(user):
    return visible_to(Federation.objects.all(), user)
