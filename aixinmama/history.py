"""Model change history (django-simple-history) for the paths that bypass model signals.

simple-history records a change when a model instance is saved or deleted. Bulk inserts,
bulk updates and queryset `update()` do not send those signals, so every such path that
touches a model with history calls `record_bulk_history` with the rows it wrote.
"""

from django.db import models


def has_history(model: type[models.Model]) -> bool:
    return hasattr(model, "history") and hasattr(model.history, "bulk_history_create")


def record_bulk_history(model, objs_or_pks, *, by=None, reason: str = "", update: bool = True) -> int:
    """Write one historical row per object, as it now is in the database.

    `objs_or_pks` are instances (used as they are, e.g. right after bulk_create) or primary
    keys (re-read, e.g. after `queryset.update()`). Returns the number of rows written.
    """
    if not has_history(model):
        return 0
    items = list(objs_or_pks)
    if not items:
        return 0
    if not isinstance(items[0], models.Model):
        items = list(model._default_manager.filter(pk__in=items))
    user = by if getattr(by, "is_authenticated", False) else None
    model.history.bulk_history_create(
        items, batch_size=1000, update=update, default_user=user, default_change_reason=reason[:100]
    )
    return len(items)
