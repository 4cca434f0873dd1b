"""Model change history (django-simple-history) for the paths that bypass model signals, and the
bulk inserts those paths use.

simple-history records a change when a model instance is saved or deleted. Bulk inserts,
bulk updates and queryset `update()` do not send those signals, so every such path that
touches a model with history calls `record_bulk_history` with the rows it wrote.

`insert_objects` / `insert_rows` write new rows in bulk: on PostgreSQL with `COPY` after
reserving the primary keys from the table's sequence in one query (several times faster than
`bulk_create`, whose SQL compilation costs more than the database does), elsewhere (SQLite)
with `bulk_create`. They run in the caller's transaction; database errors come out as Django's
(`IntegrityError`, ...), as from `bulk_create`.
"""

import datetime

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

BATCH_SIZE = 1000

# ----------------------------------------------------------------------------------------
# Bulk inserts


# Python types a column takes as they are (psycopg adapts them); anything else goes through
# the field's get_db_prep_save, as in bulk_create.
_PLAIN_TYPES = {
    "CharField": (str,),
    "TextField": (str,),
    "SlugField": (str,),
    "EmailField": (str,),
    "URLField": (str,),
    "AutoField": (int,),
    "BigAutoField": (int,),
    "SmallAutoField": (int,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "SmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "BooleanField": (bool,),
    "DateField": (datetime.date,),
}


def _plain_types(field) -> tuple:
    while field.is_relation and getattr(field, "target_field", None) is not None and field.target_field is not field:
        field = field.target_field
    return _PLAIN_TYPES.get(field.get_internal_type(), ())


def _preparer(field, connection):
    if field.get_internal_type() == "DateTimeField" and settings.USE_TZ:

        def prepare(value):
            # An aware datetime is written as it is; anything else as get_db_prep_save makes it.
            if type(value) is datetime.datetime and value.tzinfo is not None:
                return value
            return field.get_db_prep_save(value, connection)

        return prepare
    return lambda value: field.get_db_prep_save(value, connection)


def _uses_copy(model, connection) -> bool:
    opts = model._meta
    return (
        connection.vendor == "postgresql"
        and not opts.parents
        and opts.pk.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")
        and not any(getattr(f, "generated", False) for f in opts.concrete_fields)
    )


def _reserve_ids(cursor, model, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    return [pk for (pk,) in cursor.fetchall()]


def _copy(connection, model, fields, rows) -> None:
    """COPY `rows` (tuples of Python values, one per field in `fields`) into the model's table."""
    quote = connection.ops.quote_name
    # Per column: the types written as they are, and what prepares any other value.
    specs = [(frozenset(_plain_types(f)) | {type(None)}, _preparer(f, connection)) for f in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(
                    [
                        value if type(value) in plain else prepare(value)
                        for (plain, prepare), value in zip(specs, row, strict=True)
                    ]
                )


def insert_objects(model, objs, *, using: str = "default") -> list:
    """Insert new, unsaved instances like `bulk_create` does: defaults and auto_now/auto_now_add
    filled (`pre_save`), primary keys set on the instances, which are then marked as saved."""
    objs = list(objs)
    if not objs:
        return objs
    connection = connections[using]
    if not _uses_copy(model, connection):
        return model._default_manager.using(using).bulk_create(objs, batch_size=BATCH_SIZE)
    opts = model._meta
    fields = list(opts.local_concrete_fields)
    base_pre_save = models.Field.pre_save
    # Only fields whose pre_save does something (dates with auto_now, files, ...) are asked for it.
    getters = [(f.attname, f if type(f).pre_save is not base_pre_save and f is not opts.pk else None) for f in fields]
    missing = [obj for obj in objs if obj.pk is None]
    try:
        with transaction.atomic(using=using, savepoint=False):
            if missing:
                with connection.cursor() as cursor:
                    for obj, pk in zip(missing, _reserve_ids(cursor, model, len(missing)), strict=True):
                        obj.pk = pk
            rows = []
            for obj in objs:
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
                rows.append(
                    tuple(
                        getattr(obj, attname) if field is None else field.pre_save(obj, add=True)
                        for attname, field in getters
                    )
                )
            _copy(connection, model, fields, rows)
    except Exception:
        for obj in missing:
            obj.pk = None  # not saved after all, as after a failed bulk_create
        raise
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


def insert_rows(model, attnames: list[str], rows, *, using: str = "default") -> int:
    """Insert new rows given as tuples of values for `attnames` (e.g. "child_id", "name"), without
    building model instances on PostgreSQL. Fields left out
    take their default (auto_now/auto_now_add: now); the primary key is left to the database.
    Returns the number of rows written."""
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[using]
    if not _uses_copy(model, connection):
        model._default_manager.using(using).bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows], batch_size=BATCH_SIZE
        )
        return len(rows)
    opts = model._meta
    by_attname = {f.attname: f for f in opts.local_concrete_fields}
    given = [by_attname[name] for name in attnames]
    now = timezone.now()
    rest = []
    for field in opts.local_concrete_fields:
        if field.attname in attnames or field is opts.pk:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now if isinstance(field, models.DateTimeField) else timezone.localdate()
        elif field.default is not NOT_PROVIDED or field.null:
            value = field.get_default()
        else:
            raise ValueError(f"insert_rows: no value for {model.__name__}.{field.attname}")
        rest.append((field, value))
    fields = [*given, *(f for f, _ in rest)]
    if rest:
        extra = tuple(v for _, v in rest)
        rows = [(*row, *extra) for row in rows]
    with transaction.atomic(using=using, savepoint=False):
        _copy(connection, model, fields, rows)  # the primary key: the column's default (its sequence)
    return len(rows)


# ----------------------------------------------------------------------------------------
# Change history


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
    if _copy_history(model, items, user=user, reason=reason[:100], update=update):
        return len(items)
    model.history.bulk_history_create(
        items, batch_size=BATCH_SIZE, update=update, default_user=user, default_change_reason=reason[:100]
    )
    return len(items)


_HISTORY_COLUMNS = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}


def _copy_history(model, items, *, user, reason, update) -> bool:
    """On PostgreSQL, the rows `bulk_history_create` would write, by COPY. False when this model's
    history has columns this does not know (then the caller uses simple-history's own path)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return True  # history switched off: nothing to write, as simple-history does
    historical = model.history.model
    using = model._default_manager.db
    if not _uses_copy(historical, connections[using]) or hasattr(historical, "history_relation"):
        return False
    tracked = [f.attname for f in historical.tracked_fields]
    known = _HISTORY_COLUMNS | set(tracked)
    if any(f.attname not in known for f in historical._meta.local_concrete_fields):
        return False
    from simple_history.utils import get_change_reason_from_object

    history_type = "~" if update else "+"
    now = timezone.now()
    rows = []
    for instance in items:
        history_user = getattr(instance, "_history_user", user or historical.get_default_history_user(instance))
        rows.append(
            (
                getattr(instance, "_history_date", now),
                history_user.pk if history_user is not None else None,
                get_change_reason_from_object(instance) or reason,
                history_type,
                *(getattr(instance, attname) for attname in tracked),
            )
        )
    attnames = ["history_date", "history_user_id", "history_change_reason", "history_type", *tracked]
    insert_rows(historical, attnames, rows, using=using)
    return True
