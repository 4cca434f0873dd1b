"""Reads of the children register, always scoped to the reader's jurisdiction."""

import datetime

from teams.selectors import visible_to

from .models import Child


def children_visible_to(user):
    return visible_to(Child.objects.all(), user)


def find_possible_duplicates(*, user, name: str, birth_date: datetime.date | None, exclude_pk=None):
    """Children with the same name and birth date that `user` can see (the duplicate warning).

    The ID number is unique in the database; this catches the same child registered twice
    with a mistyped number. Only the user's jurisdiction is searched: they are told about
    records they may open, nothing else.
    """
    if not name or not birth_date:
        return Child.objects.none()
    qs = visible_to(Child.objects.possible_duplicates_of(name, birth_date), user)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.select_related("village").order_by("pk")


FULL_IDENTITY_PERMISSION = "children.view_full_identity"


def can_view_full_identity(user) -> bool:
    """Whether `user` may see children's full ID numbers and guardians' full phone numbers."""
    return bool(user and user.has_perm(FULL_IDENTITY_PERMISSION))
