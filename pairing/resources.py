"""Pairings, activity logs and donations in spreadsheets, on the shared base (aixinmama.resources).

Rows refer to other records by what a coordinator has on paper:
- a child by ID number (儿童身份证号码; several in one cell separated by 、 for activity logs);
- a volunteer by ID number (爱心妈妈身份证号码), or a team by its owning unit (队伍所属妇联: division
  code or name path) and its name (队伍名称) — one of the two per row;
- units by division code or name path (UnitWidget).

Every record a row names must lie within the importer's jurisdiction (children, volunteers, teams,
units; for pairings also a volunteer or team registered at a unit above the importer's, such as
a city-level specialty team, since the unit rule lets it serve the whole city). Anything else is
refused on its row, in its column.

Writes go through `pairing.services` (create_pairing, record_activity, record_donation), one row
at a time, so every row obeys exactly the rules of the admin forms (eligibility, capacity, the
unit rule, dates, pairings served...). The import runs in one transaction: the widgets and the
cheap checks validate each row without writing, then the row's service call runs in its own
savepoint; a row the service refuses is rolled back to its savepoint and reported with its row
number and the column the rule is about, and the remaining rows are still checked (against the
rows before them, e.g. for capacity). If any row has an error, the whole import is rolled back:
nothing is written. These sheets are small (hundreds of rows); a row costs a handful of queries.

Re-importing is idempotent:
- pairings: a row whose child already has an active pairing with the same volunteer/team is
  left unchanged; rows marked 已结束 (ended pairings, as exported) are history and are skipped;
- activity logs: a row matching a log (not withdrawn) of the same volunteer/team, date, type and
  set of children is left unchanged;
- donations: keyed by receipt number (收据编号, unique across the city; one registered in another
  jurisdiction is refused on its row); a row without a receipt number matches a donation of the
  same donor, date, type, amount, items and quantity. A matched donation is left unchanged
  (recorded donations are edited in the admin, where allocations are checked).

Export: the admin's (scoped) queryset, Chinese headers, children's ID numbers masked unless the
user holds children.view_full_identity and volunteers' unless teams.view_full_identity (a masked
export is for reading; it cannot be re-imported). Formula neutralisation and the CSV BOM come
from the base.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult
from import_export.widgets import Widget

from aixinmama.identity import mask_id_number
from aixinmama.resources import (
    BaseModelResource,
    BooleanWidget,
    ChoiceWidget,
    DateWidget,
    IDNumberWidget,
    IntegerWidget,
    TextWidget,
    UnitWidget,
    _text,
)
from children.models import Child
from teams.models import Team, Volunteer
from teams.selectors import visible_to

from .models import (
    ActivityKind,
    ActivityLog,
    ActivityMode,
    Donation,
    DonationKind,
    Donor,
    DonorKind,
    Pairing,
    PairingStatus,
    ReviewStatus,
)
from .services import create_pairing, record_activity, record_donation

CHILD_IDENTITY = "children.view_full_identity"
VOLUNTEER_IDENTITY = "teams.view_full_identity"
SEPARATORS = re.compile(r"[、,,;;\s]+")
PATH_SEPARATORS = re.compile(r"[/／>]")


class OptionalField(Field):
    """A column that may be absent from the sheet."""

    optional_column = True


class ExportOnlyField(OptionalField):
    def __init__(self, **kwargs):
        super().__init__(readonly=True, **kwargs)


# ----------------------------------------------------------------------------------------
# Widgets: records by ID number or by unit + name, prefetched once per sheet


class ByIDNumberWidget(Widget):
    """Records by ID number among those the resource allows (`prefetch` with a queryset).

    With `many=True` a cell holds several numbers separated by 、 (or , ; spaces) and the
    value is a list.
    """

    def __init__(self, label: str, *, required=True, many=False, **kwargs):
        self.label = label
        self.required = required
        self.many = many
        self._by_id: dict[str, object] = {}
        self._id_widget = IDNumberWidget()
        super().__init__(**kwargs)

    def _parts(self, value) -> list[str]:
        if isinstance(value, float):
            return [value]  # IDNumberWidget explains numbers saved as numbers
        text = _text(value)
        return [p for p in SEPARATORS.split(text) if p] if self.many else ([text] if text else [])

    def prefetch(self, queryset, values) -> None:
        keys = set()
        for value in values:
            for part in self._parts(value):
                try:
                    keys.add(self._id_widget.clean(part))
                except ValueError:
                    continue
        self._by_id = {r.id_number: r for r in queryset.filter(id_number__in=keys)}

    def clean(self, value, row=None, **kwargs):
        parts = self._parts(value)
        if not parts:
            if self.required:
                raise ValueError("身份证号码不能为空。")
            return [] if self.many else None
        found, problems = [], []
        for part in parts:
            try:
                number = self._id_widget.clean(part)
            except ValueError as exc:
                problems.append(f"“{_text(part)}”:{exc}" if self.many else str(exc))
                continue
            record = self._by_id.get(number)
            if record is None:
                problems.append(f"身份证号码为 {mask_id_number(number)} 的{self.label}未登记,或不在您的管辖范围内。")
            elif record in found:
                problems.append(f"{self.label}身份证号码 {mask_id_number(number)} 填写了两次。")
            else:
                found.append(record)
        if problems:
            raise ValueError(";".join(problems))
        return found if self.many else found[0]

    def render(self, value, obj=None, **kwargs):
        if self.many:
            return "、".join(r.id_number for r in value or [])
        return value.id_number if value else ""


def unit_matches(unit, key: str) -> bool:
    """`key` names `unit`: its division code, its name, or a name path ending with its name."""
    if not key:
        return False
    if key == unit.division_code:
        return True
    parts = [p.strip() for p in PATH_SEPARATORS.split(key) if p.strip()]
    return bool(parts) and parts[-1] == unit.name


class TeamByUnitAndNameWidget(Widget):
    """A team by name, in the unit named in the row's `unit_column` (prefetched in one query)."""

    def __init__(self, unit_column: str, **kwargs):
        self.unit_column = unit_column
        self._by_name: dict[str, list] = {}
        super().__init__(**kwargs)

    def prefetch(self, queryset, names) -> None:
        names = {_text(n) for n in names} - {""}
        self._by_name = {}
        for team in queryset.filter(name__in=names).select_related("federation"):
            self._by_name.setdefault(team.name, []).append(team)

    def clean(self, value, row=None, **kwargs):
        name = _text(value)
        if not name:
            return None
        unit_key = _text((row or {}).get(self.unit_column))
        if not unit_key:
            raise ValueError(f"请在“{self.unit_column}”列填写队伍所属妇联(区划代码或名称路径)。")
        found = [t for t in self._by_name.get(name, []) if unit_matches(t.federation, unit_key)]
        if not found:
            raise ValueError(f"“{unit_key}”没有名为“{name}”的队伍,或不在您的管辖范围内。")
        if len(found) > 1:
            raise ValueError(f"“{unit_key}”有多支名为“{name}”的队伍:请在“{self.unit_column}”列填写区划代码。")
        return found[0]

    def render(self, value, obj=None, **kwargs):
        return value.name if value else ""


class YuanWidget(Widget):
    """An amount in yuan as a decimal (never a float): 1000, 1,000.50, ¥1000, 1000元."""

    def __init__(self, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = _text(value) if not isinstance(value, float) else repr(value)
        if not text:
            return None
        cleaned = text.replace(",", "").replace(",", "").replace(" ", "").lstrip("¥￥").removesuffix("元")
        try:
            amount = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"“{text}”不是金额:请填写以元为单位的数字,如 1000.50。") from None
        if not amount.is_finite():
            raise ValueError(f"“{text}”不是金额:请填写以元为单位的数字,如 1000.50。")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(f"金额“{text}”最多保留两位小数(元、角、分)。")
        if amount < 0 or (amount == 0 and not self.allow_zero):
            raise ValueError("金额须大于 0。" if not self.allow_zero else "金额不能为负数。")
        return amount.quantize(Decimal("0.01"))

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else f"{value:.2f}"


# ----------------------------------------------------------------------------------------
# The shared machinery: composite keys, validation first, a service call per row


class ServiceRowLoader(BaseInstanceLoader):
    """Existing records for the whole sheet in one or two queries, by the resource's `row_key`."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.instances = {}
        if dataset is not None and not resource._file_error:
            self.instances = resource.existing_by_key(dataset)

    def get_instance(self, row):
        key = self.resource.row_key(row)
        return self.instances.get(key) if key is not None else None


class ServiceResource(BaseModelResource):
    """Rows validated by widgets and `check_row`, then written by `perform` (a service call).

    A matched existing record (by `row_key`) is left unchanged. `error_columns` maps the keys of
    a service's ValidationError to the resource field whose column the message belongs to.
    `identity_columns` maps a column to the permission needed to see its ID numbers in full.
    """

    key_description = ""
    error_columns: dict[str, str] = {}
    identity_columns: dict[str, str] = {}

    class Meta(BaseModelResource.Meta):
        use_bulk = False
        instance_loader_class = ServiceRowLoader

    def __init__(self, user=None, **kwargs):
        super().__init__(user=user, **kwargs)
        self._file_error = False

    # --- reading the sheet ------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        self._file_error = True
        super().before_import(dataset, **kwargs)
        self.prefetch(dataset)
        self._file_error = False

    def prefetch(self, dataset) -> None:
        """Resolve the sheet's references in a few queries (called once, before the rows)."""

    def column_values(self, dataset, name) -> list:
        column = self.fields[name].column_name
        return list(dataset[column]) if column in (dataset.headers or []) else []

    def clean_or_none(self, name, row):
        field = self.fields[name]
        if field.column_name not in row:
            return None
        try:
            return field.clean(row)
        except (ValueError, ValidationError):
            return None

    def row_key(self, row):
        raise NotImplementedError

    def existing_by_key(self, dataset) -> dict:
        raise NotImplementedError

    # --- each row ---------------------------------------------------------------------

    def import_row(self, row, instance_loader, **kwargs):
        if self._file_error:  # missing columns: reported once for the file, rows not read
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP
            return result
        return super().import_row(row, instance_loader, **kwargs)

    def before_import_row(self, row, row_number=None, **kwargs):
        key = self.row_key(row)
        if key is None:
            return
        sheet_row = self.sheet_row(row_number)
        if key in self._seen_keys:
            raise ValidationError(f"与第 {self._seen_keys[key]} 行重复(同一表格中{self.key_description}只能出现一次)。")
        self._seen_keys[key] = sheet_row

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # An existing record is left as it is (the sheet never edits through the services).
        return instance.pk is not None and not import_validation_errors

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = {k: list(v) if isinstance(v, list) else [v] for k, v in (import_validation_errors or {}).items()}
        self.check_row(instance, errors)
        if errors:
            raise ValidationError(errors)

    def check_row(self, instance, errors: dict) -> None:
        """Cheap checks without writing; add messages to `errors` (field name -> list)."""

    def save_instance(self, instance, is_create, row, **kwargs):
        # Runs for every valid row, even after an invalid one: the service's own atomic block
        # is a savepoint, so a refused row leaves nothing behind and later rows are checked
        # against the earlier ones. Any invalid row rolls the whole import back (run_import,
        # the admin's dry run).
        try:
            with transaction.atomic():
                saved = self.perform(instance)
        except ValidationError as exc:
            raise ValidationError(self.map_errors(exc)) from None
        instance.pk = saved.pk
        instance._state.adding = False

    def perform(self, instance):
        raise NotImplementedError

    def map_errors(self, exc: ValidationError) -> dict:
        if not hasattr(exc, "error_dict"):
            return {NON_FIELD_ERRORS: exc.messages}
        mapped: dict[str, list] = {}
        for key, errors in exc.error_dict.items():
            target = self.error_columns.get(key, key)
            for error in errors:
                mapped.setdefault(target, []).extend(error.messages)
        return mapped

    # --- export -----------------------------------------------------------------------

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        permission = self.identity_columns.get(field.column_name)
        if permission and value and not (self.user is not None and self.user.has_perm(permission)):
            value = "、".join(mask_id_number(part) for part in str(value).split("、"))
        return value

    def export(self, queryset=None, **kwargs):
        return super().export(self._meta.model.objects.all() if queryset is None else queryset, **kwargs)


def partner_queryset(model, user, *, with_ancestors: bool):
    """Volunteers or teams the user may name: within the jurisdiction, and (for pairing) those
    registered at a unit above it, e.g. a city-level specialty team serving the whole city."""
    queryset = visible_to(model.objects.all(), user)
    unit = getattr(user, "federation", None)
    if with_ancestors and unit is not None and not getattr(user, "is_superuser", False):
        queryset = model.objects.filter(Q(pk__in=queryset.values("pk")) | Q(federation__path__in=unit.ancestor_paths()))
    return queryset


# ----------------------------------------------------------------------------------------
# Pairings


class PairingResource(ServiceResource):
    child = Field(attribute="child", column_name="儿童身份证号码", widget=ByIDNumberWidget("儿童", required=True))
    child_name = ExportOnlyField(column_name="儿童姓名")
    village = ExportOnlyField(column_name="所在村(居)")
    volunteer = OptionalField(
        attribute="volunteer", column_name="爱心妈妈身份证号码", widget=ByIDNumberWidget("爱心妈妈", required=False)
    )
    volunteer_name = ExportOnlyField(column_name="爱心妈妈姓名")
    team_unit = OptionalField(column_name="队伍所属妇联", readonly=True)
    team = OptionalField(
        attribute="team", column_name="队伍名称", widget=TeamByUnitAndNameWidget(unit_column="队伍所属妇联")
    )
    start_date = Field(attribute="start_date", column_name="结对日期", widget=DateWidget(required=True))
    reason = OptionalField(attribute="reason", column_name="跨区结对原因", widget=TextWidget())
    status = OptionalField(
        attribute="sheet_status",
        column_name="状态",
        widget=ChoiceWidget(PairingStatus.choices, required=False, default=PairingStatus.ACTIVE),
    )
    end_date = ExportOnlyField(attribute="end_date", column_name="结束日期", widget=DateWidget())
    end_reason = ExportOnlyField(column_name="结束原因")
    last_activity_on = ExportOnlyField(attribute="last_activity_on", column_name="最近帮扶日期", widget=DateWidget())

    key_description = "同一儿童与同一爱心妈妈或队伍的结对"
    identity_columns = {"儿童身份证号码": CHILD_IDENTITY, "爱心妈妈身份证号码": VOLUNTEER_IDENTITY}

    class Meta(ServiceResource.Meta):
        model = Pairing
        fields = [
            "child",
            "child_name",
            "village",
            "volunteer",
            "volunteer_name",
            "team_unit",
            "team",
            "start_date",
            "reason",
            "status",
            "end_date",
            "end_reason",
            "last_activity_on",
        ]
        import_id_fields = ["child"]

    def prefetch(self, dataset):
        self.fields["child"].widget.prefetch(
            visible_to(Child.objects.select_related("village"), self.user), self.column_values(dataset, "child")
        )
        self.fields["volunteer"].widget.prefetch(
            partner_queryset(Volunteer, self.user, with_ancestors=True), self.column_values(dataset, "volunteer")
        )
        self.fields["team"].widget.prefetch(
            partner_queryset(Team, self.user, with_ancestors=True), self.column_values(dataset, "team")
        )

    def _ended_row(self, row) -> bool:
        return self.clean_or_none("status", row) == PairingStatus.ENDED

    def row_key(self, row):
        if self._ended_row(row):
            return None
        child = self.clean_or_none("child", row)
        volunteer, team = self.clean_or_none("volunteer", row), self.clean_or_none("team", row)
        if child is None or (volunteer is None) == (team is None):
            return None
        return (child.pk, "volunteer", volunteer.pk) if volunteer else (child.pk, "team", team.pk)

    def existing_by_key(self, dataset):
        children = list(self.fields["child"].widget._by_id.values())
        found = {}
        for p in Pairing.objects.active().filter(child__in=children).select_related("child", "volunteer", "team"):
            key = (p.child_id, "volunteer", p.volunteer_id) if p.volunteer_id else (p.child_id, "team", p.team_id)
            found[key] = p
        return found

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self._ended_row(row) and not import_validation_errors:
            return True  # ended pairings are history: the import only creates pairings
        return super().skip_row(instance, original, row, import_validation_errors)

    def check_row(self, instance, errors):
        if "volunteer" in errors or "team" in errors:
            return
        if instance.volunteer_id is None and instance.team_id is None:
            errors["volunteer"] = ["请填写爱心妈妈身份证号码,或队伍所属妇联和队伍名称(二者选一)。"]
        elif instance.volunteer_id is not None and instance.team_id is not None:
            errors["team"] = ["一行只能填写一位爱心妈妈或一支队伍(二者选一)。"]
        if "start_date" not in errors and instance.start_date and instance.start_date > timezone.localdate():
            errors["start_date"] = ["结对日期不能晚于今天。"]

    def perform(self, instance):
        return create_pairing(
            child=instance.child,
            volunteer=instance.volunteer,
            team=instance.team,
            by=self.user,
            reason=instance.reason or "",
            start_date=instance.start_date,
        )

    # --- export ---

    def filter_export(self, queryset, **kwargs):
        return visible_to(queryset, self.user).select_related("child__village", "volunteer", "team__federation")

    def dehydrate_child_name(self, pairing):
        return pairing.child.name

    def dehydrate_village(self, pairing):
        return pairing.child.village.name

    def dehydrate_volunteer_name(self, pairing):
        return pairing.volunteer.name if pairing.volunteer_id else ""

    def dehydrate_team_unit(self, pairing):
        if not pairing.team_id:
            return ""
        unit = pairing.team.federation
        return unit.division_code or unit.name

    def dehydrate_status(self, pairing):
        return pairing.get_status_display()

    def dehydrate_end_reason(self, pairing):
        return pairing.get_end_reason_display() if pairing.end_reason else ""


# ----------------------------------------------------------------------------------------
# Activity logs


class ActivityLogResource(ServiceResource):
    volunteer = OptionalField(
        attribute="volunteer", column_name="爱心妈妈身份证号码", widget=ByIDNumberWidget("爱心妈妈", required=False)
    )
    volunteer_name = ExportOnlyField(column_name="爱心妈妈姓名")
    team_unit = OptionalField(column_name="队伍所属妇联", readonly=True)
    team = OptionalField(
        attribute="team", column_name="队伍名称", widget=TeamByUnitAndNameWidget(unit_column="队伍所属妇联")
    )
    children = Field(
        attribute="served_children",
        column_name="服务儿童身份证号码",
        widget=ByIDNumberWidget("儿童", required=False, many=True),
    )
    children_names = ExportOnlyField(column_name="服务儿童姓名")
    is_group = OptionalField(attribute="is_group", column_name="集体活动", widget=BooleanWidget())
    date = Field(attribute="date", column_name="活动日期", widget=DateWidget(required=True))
    kind = Field(attribute="kind", column_name="帮扶类型", widget=ChoiceWidget(ActivityKind.choices))
    mode = OptionalField(
        attribute="mode",
        column_name="形式",
        widget=ChoiceWidget(ActivityMode.choices, required=False, default=ActivityMode.OFFLINE),
    )
    duration_minutes = OptionalField(
        attribute="duration_minutes", column_name="时长(分钟)", widget=IntegerWidget(minimum=1)
    )
    children_reached = OptionalField(
        attribute="children_reached", column_name="服务儿童人次", widget=IntegerWidget(minimum=0)
    )
    parents_reached = OptionalField(
        attribute="parents_reached", column_name="服务家长人次", widget=IntegerWidget(minimum=0)
    )
    place = OptionalField(attribute="place", column_name="地点", widget=TextWidget())
    description = OptionalField(attribute="description", column_name="活动内容", widget=TextWidget())
    status = ExportOnlyField(column_name="审核状态")
    federation = ExportOnlyField(column_name="所属妇联")

    key_description = "同一记录人、同一日期、同一类型、同一批儿童的帮扶记录"
    error_columns = {"pairings": "children", "federation": "volunteer"}
    identity_columns = {"服务儿童身份证号码": CHILD_IDENTITY, "爱心妈妈身份证号码": VOLUNTEER_IDENTITY}

    class Meta(ServiceResource.Meta):
        model = ActivityLog
        fields = [
            "volunteer",
            "volunteer_name",
            "team_unit",
            "team",
            "children",
            "children_names",
            "is_group",
            "date",
            "kind",
            "mode",
            "duration_minutes",
            "children_reached",
            "parents_reached",
            "place",
            "description",
            "status",
            "federation",
        ]
        import_id_fields = ["date"]

    def prefetch(self, dataset):
        self.fields["children"].widget.prefetch(
            visible_to(Child.objects.all(), self.user), self.column_values(dataset, "children")
        )
        self.fields["volunteer"].widget.prefetch(
            partner_queryset(Volunteer, self.user, with_ancestors=False), self.column_values(dataset, "volunteer")
        )
        self.fields["team"].widget.prefetch(
            partner_queryset(Team, self.user, with_ancestors=False), self.column_values(dataset, "team")
        )

    def row_key(self, row):
        volunteer, team = self.clean_or_none("volunteer", row), self.clean_or_none("team", row)
        date, kind = self.clean_or_none("date", row), self.clean_or_none("kind", row)
        children = self.clean_or_none("children", row)
        if (volunteer is None) == (team is None) or date is None or not kind or children is None:
            return None
        doer = ("volunteer", volunteer.pk) if volunteer else ("team", team.pk)
        return (*doer, date, kind, frozenset(c.pk for c in children))

    def existing_by_key(self, dataset):
        volunteers = list(self.fields["volunteer"].widget._by_id.values())
        teams = [t for teams in self.fields["team"].widget._by_name.values() for t in teams]
        dates = set()
        date_field = self.fields["date"]
        for value in self.column_values(dataset, "date"):
            try:
                dates.add(date_field.widget.clean(value))
            except ValueError:
                continue
        if not dates or not (volunteers or teams):
            return {}
        logs = (
            visible_to(ActivityLog.objects.all(), self.user)
            .filter(Q(volunteer__in=volunteers) | Q(team__in=teams), date__in=dates)
            .exclude(status=ReviewStatus.WITHDRAWN)
            .select_related("volunteer", "team")
            .prefetch_related("pairings")
        )
        found = {}
        for log in logs:
            doer = ("volunteer", log.volunteer_id) if log.volunteer_id else ("team", log.team_id)
            found[(*doer, log.date, log.kind, frozenset(p.child_id for p in log.pairings.all()))] = log
        return found

    def check_row(self, instance, errors):
        if "volunteer" not in errors and "team" not in errors:
            if instance.volunteer_id is None and instance.team_id is None:
                errors["volunteer"] = ["请填写爱心妈妈身份证号码,或队伍所属妇联和队伍名称(二者选一)。"]
            elif instance.volunteer_id is not None and instance.team_id is not None:
                errors["team"] = ["一行只能填写一位爱心妈妈或一支队伍(二者选一)。"]
        if "date" not in errors and instance.date and instance.date > timezone.localdate():
            errors["date"] = ["活动日期不能晚于今天。"]
        if instance.is_group and instance.team_id is None and "is_group" not in errors and "team" not in errors:
            errors["is_group"] = ["集体活动须由队伍填报。"]

    def perform(self, instance):
        fields = {
            "mode": instance.mode or ActivityMode.OFFLINE,
            "duration_minutes": instance.duration_minutes if instance.duration_minutes is not None else 60,
            "children_reached": instance.children_reached or 0,
            "parents_reached": instance.parents_reached or 0,
            "place": instance.place or "",
            "description": instance.description or "",
            "is_group": bool(instance.is_group),
        }
        return record_activity(
            by=self.user,
            volunteer=instance.volunteer,
            team=instance.team,
            children=list(getattr(instance, "served_children", None) or []),
            date=instance.date,
            kind=instance.kind,
            **fields,
        )

    # --- export ---

    def filter_export(self, queryset, **kwargs):
        return (
            visible_to(queryset, self.user)
            .select_related("volunteer", "team__federation", "federation")
            .prefetch_related("pairings__child")
        )

    def _children(self, log):
        return sorted((p.child for p in log.pairings.all()), key=lambda c: c.pk)

    def dehydrate_children(self, log):
        return "、".join(c.id_number for c in self._children(log))

    def dehydrate_children_names(self, log):
        return "、".join(c.name for c in self._children(log))

    def dehydrate_volunteer_name(self, log):
        return log.volunteer.name if log.volunteer_id else ""

    def dehydrate_team_unit(self, log):
        if not log.team_id:
            return ""
        unit = log.team.federation
        return unit.division_code or unit.name

    def dehydrate_kind(self, log):
        return log.get_kind_display()

    def dehydrate_mode(self, log):
        return log.get_mode_display()

    def dehydrate_status(self, log):
        return log.get_status_display()

    def dehydrate_federation(self, log):
        return log.federation.name


# ----------------------------------------------------------------------------------------
# Donations


class DonationResource(ServiceResource):
    donor = Field(attribute="donor_name", column_name="捐赠方", widget=TextWidget())
    donor_kind = Field(attribute="donor_kind", column_name="捐赠方类型", widget=ChoiceWidget(DonorKind.choices))
    date = Field(attribute="date", column_name="捐赠日期", widget=DateWidget(required=True))
    kind = Field(attribute="kind", column_name="捐赠类型", widget=ChoiceWidget(DonationKind.choices))
    amount = OptionalField(attribute="amount", column_name="金额(元)", widget=YuanWidget())
    items = OptionalField(attribute="items", column_name="物资/服务内容", widget=TextWidget())
    quantity = OptionalField(attribute="quantity", column_name="数量", widget=IntegerWidget(minimum=1))
    estimated_value = OptionalField(
        attribute="estimated_value", column_name="折价(元)", widget=YuanWidget(allow_zero=True)
    )
    receiving_body = OptionalField(attribute="receiving_body", column_name="受赠方", widget=TextWidget())
    receiving_unit = Field(attribute="receiving_unit", column_name="受赠妇联单位", widget=UnitWidget())
    purpose = OptionalField(attribute="purpose", column_name="定向用途", widget=TextWidget())
    receipt_number = OptionalField(attribute="receipt_number", column_name="收据编号", widget=TextWidget())
    # Blank: the importer's own unit. (Both unit columns must be present, their cells may be blank.)
    federation = Field(attribute="federation", column_name="登记单位", widget=UnitWidget())

    key_description = "收据编号(或无收据编号时同一捐赠方、日期、类型、金额与物资)"
    error_columns = {"donor": "donor"}

    class Meta(ServiceResource.Meta):
        model = Donation
        fields = [
            "donor",
            "donor_kind",
            "date",
            "kind",
            "amount",
            "items",
            "quantity",
            "estimated_value",
            "receiving_body",
            "receiving_unit",
            "purpose",
            "receipt_number",
            "federation",
        ]
        import_id_fields = ["date"]

    def __init__(self, user=None, **kwargs):
        super().__init__(user=user, **kwargs)
        self._donors: dict[tuple[int, str], Donor] = {}
        self._receipts_elsewhere: set[str] = set()

    def prefetch(self, dataset):
        names = {_text(v) for v in self.column_values(dataset, "donor")} - {""}
        self._donors = {
            (d.federation_id, d.name): d for d in visible_to(Donor.objects.filter(name__in=names), self.user)
        }

    def default_unit(self):
        return None if self.user is None or self.user.is_superuser else self.user.federation

    def _row_unit(self, row):
        if self.fields["federation"].column_name in row and _text(row[self.fields["federation"].column_name]):
            return self.clean_or_none("federation", row)
        return self.default_unit()

    def row_key(self, row):
        receipt = self.clean_or_none("receipt_number", row)
        if receipt:
            return ("receipt", receipt)
        parts = [self.clean_or_none(n, row) for n in ("donor", "date", "kind", "amount", "items", "quantity")]
        if not parts[0] or parts[1] is None or not parts[2]:
            return None
        return ("content", *(p if p is not None else "" for p in parts))

    def existing_by_key(self, dataset):
        receipts = {_text(v) for v in self.column_values(dataset, "receipt_number")} - {""}
        found = {}
        if receipts:
            donations = list(Donation.objects.filter(receipt_number__in=receipts).select_related("donor"))
            visible = set(
                visible_to(Donation.objects.filter(pk__in=[d.pk for d in donations]), self.user).values_list(
                    "pk", flat=True
                )
            )
            for d in donations:
                if d.pk in visible:
                    found[("receipt", d.receipt_number)] = d
                else:
                    self._receipts_elsewhere.add(d.receipt_number)
        names = {_text(v) for v in self.column_values(dataset, "donor")} - {""}
        if names:
            for d in visible_to(
                Donation.objects.filter(receipt_number="", donor__name__in=names).select_related("donor"), self.user
            ):
                key = ("content", d.donor.name, d.date, d.kind, d.amount or "", d.items, d.quantity or "")
                found.setdefault(key, d)
        return found

    def check_row(self, instance, errors):
        receipt = instance.receipt_number or ""
        if receipt in self._receipts_elsewhere and "receipt_number" not in errors:
            errors["receipt_number"] = ["该收据编号已由其他辖区登记,不能重复导入。"]
        if getattr(instance, "federation_id", None) is None and "federation" not in errors:
            unit = self.default_unit()
            if unit is None:
                errors["federation"] = ["请填写登记单位(区划代码或名称路径)。"]
            else:
                instance.federation = unit
        for name in ("items", "receiving_body", "purpose", "receipt_number"):
            if getattr(instance, name, None) is None:
                setattr(instance, name, "")
        if instance.federation_id is not None and instance.donor_name and "donor_kind" not in errors:
            donor = self._donors.get((instance.federation_id, instance.donor_name))
            if donor is not None and donor.kind != instance.donor_kind:
                errors["donor_kind"] = [f"“{donor.name}”已登记为“{donor.get_kind_display()}”,与本行填写的类型不一致。"]
            elif donor is None and instance.donor_kind == DonorKind.FEDERATION:
                errors["donor_kind"] = ["妇联组织作为捐赠方须先在“捐赠方”中登记(选择对应单位),再导入捐赠。"]
        # The model's own checks (cash needs an amount, goods their content, date not in the future,
        # a receiver), without the foreign keys, so each message lands on its column now.
        try:
            instance.full_clean(
                exclude=[*errors, "donor", "federation", "receiving_unit", "created_by"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            already = set(errors)
            if "receiving_unit" in already:  # an unresolved unit is not a missing receiver
                already.add("receiving_body")
            for key, messages in exc.message_dict.items():
                if key not in already:  # Donation.clean() would repeat what the cell's own error says
                    errors.setdefault(key, []).extend(messages)

    def perform(self, instance):
        key = (instance.federation_id, instance.donor_name)
        donor = self._donors.get(key)
        created = donor is None
        if created:
            donor = Donor(kind=instance.donor_kind, name=instance.donor_name, federation=instance.federation)
            donor.full_clean()
            donor.save()
        instance.donor = donor
        donation = record_donation(donation=instance, by=self.user)
        if created:
            self._donors[key] = donor  # only once the row is written: a refused row's donor is rolled back
        return donation

    def map_errors(self, exc):
        mapped = super().map_errors(exc)
        if "name" in mapped:  # from the new donor's full_clean
            mapped.setdefault("donor", []).extend(mapped.pop("name"))
        return mapped

    # --- export ---

    def filter_export(self, queryset, **kwargs):
        return visible_to(queryset, self.user).select_related("donor", "receiving_unit", "federation")

    def dehydrate_donor(self, donation):
        return donation.donor.name

    def dehydrate_donor_kind(self, donation):
        return donation.donor.get_kind_display()

    def dehydrate_federation(self, donation):
        unit = donation.federation
        return unit.division_code or unit.name


__all__ = ["ActivityLogResource", "DonationResource", "PairingResource"]
