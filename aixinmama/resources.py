"""Spreadsheet import and export on top of django-import-export, the way coordinators need it.

How to use it (one resource per model, in `<app>/resources.py`)::

    class VolunteerResource(BaseModelResource):
        name = Field(attribute="name", column_name="姓名")
        id_number = Field(attribute="id_number", column_name="身份证号", widget=IDNumberWidget())
        federation = Field(attribute="federation", column_name="所属妇联", widget=UnitWidget())
        ...
        natural_key = "id_number"                       # dedupe: re-importing updates, never duplicates
        masked_fields = {"id_number": mask_id_number}   # masked on export ...
        full_identity_permission = "teams.view_full_identity"   # ... unless the user has this

        class Meta(BaseModelResource.Meta):
            model = Volunteer
            fields = ["name", "id_number", "federation", ...]
            import_id_fields = ["id_number"]

    resource = VolunteerResource(user=request.user)
    outcome = run_import(resource, dataset)   # all-or-nothing; outcome.errors are SheetError(row, column, message)

What the base gives every resource:
- Chinese column headers (the `column_name` of each Field); missing columns are reported by name.
- Rows are validated in Python first (widgets + the model's `full_clean`, with its `clean()`),
  without a query per row: existing records are fetched in one query by the natural key, units in
  one query by code or name path. Writes are bulk (`use_bulk`), in one transaction.
- All-or-nothing: any invalid row rolls the whole import back. `run_import` and the admin list every
  error with its sheet row number (the header is row 1) and column letter and header.
- A duplicate natural key inside the sheet is an error on the second row, naming the first.
- Units (`UnitWidget`) and existing records must lie within the importing user's jurisdiction: a
  coordinator cannot write rows into another district, nor update a record registered elsewhere.
- Export: cells that begin with =, +, -, @ (or a tab/carriage return) are prefixed with an apostrophe
  so Excel and WPS show them as text, never run them as formulas; `masked_fields` are masked unless
  the user holds `full_identity_permission`. CSV is UTF-8 with a BOM (Excel opens it correctly); CSV
  imports accept UTF-8 (with or without BOM) and GB18030/GBK as saved by Chinese Excel and WPS.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone
from django.utils.encoding import force_str
from import_export import resources, widgets
from import_export.fields import Field
from import_export.formats import base_formats
from import_export.instance_loaders import BaseInstanceLoader

from aixinmama.history import insert_objects, record_bulk_history
from aixinmama.identity import normalize_id_number, normalize_mobile, validate_id_number, validate_mobile

# ----------------------------------------------------------------------------------------
# Errors


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True, order=True)
class SheetError:
    row: int  # sheet row number; the header is row 1, 0 for errors about the whole file
    column: str  # "C「身份证号」", or "" when the error is about the row or the file
    message: str

    def __str__(self):
        where = f"第 {self.row} 行" if self.row else "文件"
        if self.column:
            where += f",{self.column} 列"
        return f"{where}:{self.message}"


class SheetFileError(ValueError):
    """The file cannot be read as a table (encoding, empty, merged or blank headers)."""


# ----------------------------------------------------------------------------------------
# Formats: CSV with BOM and encoding detection, XLSX that keeps sheet row numbers


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK/GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SheetFileError(
            f"无法识别文件编码(第 {exc.start + 1} 个字节):请在 Excel/WPS 中另存为“CSV UTF-8”后重新导入。"
        ) from None


def _check_headers(headers: list) -> list[str]:
    cleaned = []
    for index, header in enumerate(headers):
        text = "" if header is None else str(header).strip()
        if not text:
            raise SheetFileError(
                f"第 1 行 {column_letter(index)} 列的表头为空(可能是合并单元格或多余的空列):"
                "请使用一行、不合并的表头,每列一个名称。"
            )
        if text in cleaned:
            first = column_letter(cleaned.index(text))
            raise SheetFileError(f"表头“{text}”出现了两次({first} 列和 {column_letter(index)} 列)。")
        cleaned.append(text)
    return cleaned


def _strip_trailing_blank_columns(headers: list, rows: list[list]) -> list:
    while (
        headers
        and (headers[-1] is None or str(headers[-1]).strip() == "")
        and all(len(r) < len(headers) or r[len(headers) - 1] in (None, "") for r in rows)
    ):
        headers = headers[:-1]
    return headers


def build_dataset(headers: list, rows_with_numbers: list[tuple[int, list]]) -> tablib.Dataset:
    """A dataset that remembers each row's number in the sheet (blank rows are skipped)."""
    raw_rows = [values for _, values in rows_with_numbers]
    headers = _check_headers(_strip_trailing_blank_columns(list(headers), raw_rows))
    width = len(headers)
    dataset = tablib.Dataset(headers=headers)
    numbers = []
    for number, values in rows_with_numbers:
        values = list(values[:width]) + [None] * (width - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        dataset.append(values)
        numbers.append(number)
    dataset.sheet_row_numbers = numbers
    return dataset


class CSV(base_formats.CSV):
    """CSV in and out: UTF-8 with BOM on export, UTF-8 or GB18030 on import."""

    def is_binary(self):
        return True  # read bytes: the encoding is detected here, not assumed

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        text = decode_text(in_stream) if isinstance(in_stream, bytes) else in_stream
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            headers = next(reader)
        except StopIteration:
            raise SheetFileError("文件为空:第 1 行应为表头。") from None
        rows = [(number, values) for number, values in enumerate(reader, start=2)]
        return build_dataset(headers, rows)

    def export_data(self, dataset, **kwargs):
        return ("\ufeff" + dataset.export("csv")).encode("utf-8")


class XLSX(base_formats.XLSX):
    """XLSX: the first worksheet; merged or blank header cells are a clear error."""

    def create_dataset(self, in_stream):
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
            raise SheetFileError(
                f"无法作为 XLSX 文件读取:{exc.__class__.__name__}。请确认文件是 .xlsx 格式。"
            ) from None
        try:
            sheet = book.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            try:
                headers = list(next(rows))
            except StopIteration:
                raise SheetFileError(f"工作表“{sheet.title}”为空:第 1 行应为表头。") from None
            data = [(number, list(values)) for number, values in enumerate(rows, start=2)]
        finally:
            book.close()
        return build_dataset(headers, data)


IMPORT_FORMATS = [XLSX, CSV]
EXPORT_FORMATS = [XLSX, CSV]


# ----------------------------------------------------------------------------------------
# Widgets: each raises ValueError with a Chinese message that names the bad value


def _text(value) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        return _text(value)


class IDNumberWidget(widgets.CharWidget):
    """An 18-character resident ID number with its check digit.

    Each value's verdict is remembered for the length of one import (a resource deep-copies
    its fields, so the memory is per import): the base cleans the natural key several times
    per row (prefetch, duplicate check, instance lookup, the field itself).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._verdicts: dict[str, tuple[bool, str]] = {}
        self._today = None

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, float):
            raise ValueError("身份证号被保存成了数字,末几位已丢失:请将该列设为“文本”格式后重新填写。")
        key = _text(value)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._judge(key)
            self._verdicts[key] = verdict
        ok, result = verdict
        if not ok:
            raise ValueError(result)
        return result

    def _judge(self, key: str) -> tuple[bool, str]:
        text = normalize_id_number(key)
        if not text:
            return False, "身份证号不能为空。"
        if self._today is None:
            self._today = timezone.localdate()
        try:
            validate_id_number(text, today=self._today)
        except ValidationError as exc:
            return False, exc.messages[0]
        return True, text


class MobileWidget(widgets.CharWidget):
    def __init__(self, required=True, **kwargs):
        self.required = required
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = normalize_mobile(_text(value))
        if not text:
            if self.required:
                raise ValueError("手机号码不能为空。")
            return ""
        try:
            validate_mobile(text)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
        return text


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]


class DateWidget(widgets.DateWidget):
    """Dates as Excel cells, 2024-01-31, 2024/1/31, 2024.1.31, 2024年1月31日 or 20240131."""

    def __init__(self, required=False, **kwargs):
        self.required = required
        super().__init__(format="%Y-%m-%d", **kwargs)

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = _text(value)
        if not text:
            if self.required:
                raise ValueError("日期不能为空。")
            return None
        text = text.split(" ")[0]
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                year, month, day = (int(part) for part in match.groups())
                try:
                    return datetime.date(year, month, day)
                except ValueError:
                    raise ValueError(f"日期“{text}”不存在(请检查月份和日期)。") from None
        raise ValueError(f"无法识别日期“{text}”:请使用 2024-01-31 这样的格式。")

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class IntegerWidget(widgets.IntegerWidget):
    def __init__(self, required=False, minimum=None, **kwargs):
        self.required = required
        self.minimum = minimum
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            if self.required:
                raise ValueError("不能为空。")
            return None
        try:
            number = int(float(text))
        except ValueError:
            raise ValueError(f"“{text}”不是整数。") from None
        if float(text) != number:
            raise ValueError(f"“{text}”不是整数。")
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"不能小于 {self.minimum}。")
        return number


class BooleanWidget(widgets.BooleanWidget):
    TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
    FALSE = {"否", "无", "n", "no", "false", "0", "×", ""}

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"“{_text(value)}”应为“是”或“否”。")

    def render(self, value, obj=None, **kwargs):
        return "是" if value else "否"


class ChoiceWidget(widgets.Widget):
    """One of a TextChoices, written as its Chinese label (its code is accepted too)."""

    def __init__(self, choices, required=True, default=None, **kwargs):
        self.labels = {str(value): str(label) for value, label in choices}
        self.values = {label: value for value, label in self.labels.items()} | {v: v for v in self.labels}
        self.required = required
        self.default = default
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            if self.default is not None:
                return self.default
            if self.required:
                raise ValueError(f"不能为空,应为:{'、'.join(self.labels.values())}。")
            return ""
        if text not in self.values:
            raise ValueError(f"“{text}”不是有效选项,应为:{'、'.join(self.labels.values())}。")
        return self.values[text]

    def render(self, value, obj=None, **kwargs):
        return self.labels.get(str(value), "" if value is None else str(value))


class MultiChoiceWidget(ChoiceWidget):
    """Several choices in one cell, separated by 、 , , ; ; or spaces; stored as a list.
    ("/" is not a separator: it is part of labels such as 低保/特困家庭儿童.)"""

    SEPARATORS = re.compile(r"[、,,;;\s]+")

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if not text:
            if self.required:
                raise ValueError(f"至少填写一项:{'、'.join(self.labels.values())}。")
            return []
        chosen, unknown = [], []
        for part in self.SEPARATORS.split(text):
            if not part:
                continue
            if part in self.values:
                if self.values[part] not in chosen:
                    chosen.append(self.values[part])
            else:
                unknown.append(part)
        if unknown:
            raise ValueError(f"“{'、'.join(unknown)}”不是有效选项,应为:{'、'.join(self.labels.values())}。")
        return chosen

    def render(self, value, obj=None, **kwargs):
        return "、".join(self.labels.get(str(v), str(v)) for v in (value or []))


class UnitWidget(widgets.ForeignKeyWidget):
    """A federation unit by division code (350203001001) or name path (思明区/厦港街道/沙坡尾社区).

    Only units within the importing user's jurisdiction resolve; the resource calls `prefetch`
    with the column's values so that the whole sheet costs one or two queries.
    """

    def __init__(self, levels=None, **kwargs):
        from teams.models import Federation

        self.levels = set(levels or [])
        self.user = None
        self._by_key: dict[str, object] = {}
        self._ambiguous: set[str] = set()
        super().__init__(Federation, field="division_code", **kwargs)

    def _visible(self):
        from teams.models import Federation
        from teams.selectors import visible_to

        return visible_to(Federation.objects.all(), self.user)

    def prefetch(self, values) -> None:
        keys = {_text(v) for v in values} - {""}
        codes = {k for k in keys if k.isdigit()}
        paths = {k for k in keys if not k.isdigit()}
        visible = self._visible()
        for unit in visible.filter(division_code__in=codes):
            self._by_key[unit.division_code] = unit
        last_names = {re.split(r"[/／>]", p)[-1].strip() for p in paths}
        if not last_names:
            return
        candidates = list(visible.filter(name__in=last_names))
        ancestor_paths = {a for unit in candidates for a in unit.ancestor_paths()}
        names_by_path = dict(self._visible().model.objects.filter(path__in=ancestor_paths).values_list("path", "name"))
        full_names: dict[str, list] = {}
        for unit in candidates:
            chain = [names_by_path.get(p, "") for p in unit.ancestor_paths()] + [unit.name]
            for start in range(len(chain)):
                full_names.setdefault("/".join(chain[start:]), []).append(unit)
        for key in paths:
            normalised = "/".join(part.strip() for part in re.split(r"[/／>]", key))
            found = full_names.get(normalised, [])
            if len(found) == 1:
                self._by_key[key] = found[0]
            elif len(found) > 1:
                self._ambiguous.add(key)

    def clean(self, value, row=None, **kwargs):
        key = _text(value)
        if not key:
            return None
        if key in self._ambiguous:
            raise ValueError(f"单位“{key}”有重名:请写区划代码或更完整的名称路径(如 思明区/厦港街道/沙坡尾社区)。")
        unit = self._by_key.get(key)
        if unit is None:
            raise ValueError(f"单位“{key}”不存在,或不在您的管辖范围内。")
        if self.levels and unit.level not in self.levels:
            raise ValueError(f"单位“{unit.name}”的层级不符合要求。")
        return unit

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return value.division_code or value.name


# ----------------------------------------------------------------------------------------
# Resources


def neutralise_formula(value):
    """Excel/WPS formula injection: text beginning with = + - @ tab or CR is shown as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class NaturalKeyInstanceLoader(BaseInstanceLoader):
    """Existing rows for the whole sheet in one query, by the resource's natural key.

    A malformed key is skipped here (the row's own validation reports it). Records found
    outside the user's jurisdiction are remembered so the row can be refused.
    """

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.instances = {}
        self.outside = set()
        key_field = resource.fields[resource.natural_key]
        if dataset is None or key_field.column_name not in (dataset.headers or []):
            return
        keys = set()
        for value in dataset[key_field.column_name]:
            try:
                keys.add(key_field.clean({key_field.column_name: value}))
            except (ValueError, ValidationError):
                continue
        model = resource._meta.model
        found = {
            getattr(obj, key_field.attribute): obj
            for obj in resource.get_queryset().filter(**{f"{key_field.attribute}__in": keys})
        }
        visible = resource.visible_pks([obj.pk for obj in found.values()]) if found else set()
        for key, obj in found.items():
            if obj.pk in visible:
                self.instances[key] = obj
            else:
                self.outside.add(key)
        del model

    def get_instance(self, row):
        key = self.resource.natural_key_of(row)
        return None if key is None else self.instances.get(key)


class BaseModelResource(resources.ModelResource):
    natural_key: str | None = None
    # Model fields the widgets have already checked (see clean_exclude).
    skip_field_checks: tuple[str, ...] = ()
    masked_fields: dict = {}
    full_identity_permission: str | None = None

    class Meta:
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        skip_html_diff = True
        report_skipped = False
        clean_model_instances = True
        instance_loader_class = NaturalKeyInstanceLoader
        use_transactions = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user
        self._seen_keys: dict = {}
        self._has_invalid_rows = False
        self._row_numbers: list[int] = []
        self._instance_loader = None
        self._import_fields = None
        self._key_of_row: tuple = (None, None)

    # --- jurisdiction --------------------------------------------------------------------

    def visible_pks(self, pks) -> set:
        from teams.selectors import visible_to

        model = self._meta.model
        return set(visible_to(model.objects.filter(pk__in=pks), self.user).values_list("pk", flat=True))

    def can_view_full_identity(self) -> bool:
        if not self.full_identity_permission or self.user is None:
            return False
        return self.user.has_perm(self.full_identity_permission)

    # --- import --------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        headers = dataset.headers or []
        missing = [
            f.column_name
            for f in self.get_import_fields()
            if f.column_name not in headers and not getattr(f, "optional_column", False)
        ]
        if missing:
            raise SheetFileError(f"缺少列:{'、'.join(missing)}。请使用导出的表格作为模板。")
        self._row_numbers = getattr(dataset, "sheet_row_numbers", None) or list(range(2, len(dataset) + 2))
        for field in self.get_import_fields():
            if isinstance(field.widget, UnitWidget):
                field.widget.user = self.user
                field.widget.prefetch(dataset[field.column_name])

    def after_import(self, dataset, result, **kwargs):
        # Described here, while the sheet's row numbers and headers are at hand.
        result.sheet_errors = (
            self.describe_errors(result, dataset.headers)
            if result.has_errors() or result.has_validation_errors()
            else []
        )

    def get_instance(self, instance_loader, row):
        self._instance_loader = instance_loader
        return super().get_instance(instance_loader, row)

    def natural_key_of(self, row):
        """The row's cleaned natural key, None when it is blank or invalid (the field's own
        validation reports that). Cleaned once per row: the duplicate check and the instance
        lookup both ask for it."""
        cached_row, key = self._key_of_row
        if cached_row is row:
            return key
        key_field = self.fields[self.natural_key]
        try:
            key = key_field.clean(row)
        except (ValueError, ValidationError, KeyError):
            key = None
        if key == "":
            key = None
        self._key_of_row = (row, key)
        return key

    def before_import_row(self, row, row_number=None, **kwargs):
        if not self.natural_key:
            return
        key_field = self.fields[self.natural_key]
        key = self.natural_key_of(row)
        if key is None:
            return
        sheet_row = self.sheet_row(row_number)
        if key in self._seen_keys:
            first_row = self._seen_keys[key]
            message = f"与第 {first_row} 行重复(同一表格中{key_field.column_name}只能出现一次)。"
            raise ValidationError({key_field.attribute: message})
        self._seen_keys[key] = sheet_row
        loader = self._instance_loader
        if loader is not None and key in getattr(loader, "outside", ()):
            raise ValidationError({key_field.attribute: "该记录已在其他辖区登记,不能由您导入或修改。"})

    def get_import_fields(self):
        # Asked for once per row by the library: the list does not change during an import.
        if self._import_fields is None:
            self._import_fields = super().get_import_fields()
        return self._import_fields

    def import_instance(self, instance, row, **kwargs):
        """As the library's (every import field's widget cleans its cell; ValueErrors are
        collected into one ValidationError), with the per-field dispatch done once per import."""
        errors = {}
        for field, column, attribute, clean, default, saves_null in self._plain_import_fields():
            if column not in row:
                continue
            try:
                if attribute is None:
                    self.import_field(field, instance, row, **kwargs)
                    continue
                value = clean(row[column], row=row, **kwargs)
                if default is not NOT_PROVIDED and value in field.empty_values:
                    value = default() if callable(default) else default
                if value is not None or saves_null:
                    setattr(instance, attribute, value)
            except ValueError as exc:
                errors[field.attribute] = ValidationError(force_str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)

    def _plain_import_fields(self) -> list[tuple]:
        """(field, column, attribute, widget's clean, default, saves_null_values) per import
        field; attribute None when the field must go through `import_field` (an override of it
        or of Field.save/clean, a related path)."""
        plan = getattr(self, "_import_plan", None)
        if plan is None:
            custom_import_field = type(self).import_field is not resources.Resource.import_field
            plan = []
            for field in self.get_import_fields():
                if isinstance(field.widget, widgets.ManyToManyWidget) or not field.attribute or field.readonly:
                    continue
                plain = (
                    not custom_import_field
                    and type(field).save is Field.save
                    and type(field).clean is Field.clean
                    and "__" not in field.attribute
                )
                plan.append(
                    (
                        field,
                        field.column_name,
                        field.attribute if plain else None,
                        field.widget.clean,
                        field.default,
                        field.saves_null_values,
                    )
                )
            self._import_plan = plan
        return plan

    def import_row(self, row, instance_loader, **kwargs):
        self._instance_loader = instance_loader
        row_result = super().import_row(row, instance_loader, **kwargs)
        if row_result.validation_error is not None or row_result.errors:
            self._has_invalid_rows = True
        return row_result

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # Field validators and the model's clean() run for every row. Uniqueness and constraints
        # are not checked row by row (Django would query the database once per row and
        # constraint): the natural key settles duplicates for the whole sheet in one query, and
        # the database constraints are the backstop at write time.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=self.clean_exclude(instance, errors), validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean_exclude(self, instance, errors) -> list[str]:
        """Model fields `full_clean` need not check again for this row: those already in error,
        and the filled `skip_field_checks` (foreign keys resolved for the whole sheet in one
        query, within the user's jurisdiction; Django would re-check each with a query per
        row). A blank one is still checked, so "required" is reported on its row. (Fields a
        widget validated are still cleaned: a model's clean_fields may derive values from them.)"""
        exclude = list(errors)
        for name in self.skip_field_checks:
            attname = self._meta.model._meta.get_field(name).attname
            if getattr(instance, attname, None) not in (None, ""):
                exclude.append(name)
        return exclude

    def save_instance(self, instance, is_create, row, **kwargs):
        if self._has_invalid_rows:
            return  # the import will be rolled back: keep validating, stop writing
        super().save_instance(instance, is_create, row, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        # As the library's, through `insert_objects` (COPY on PostgreSQL, bulk_create elsewhere).
        created = list(self.create_instances)
        if created and (using_transactions or not dry_run):
            try:
                insert_objects(self._meta.model, created, using=self.get_db_connection_name())
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.create_instances.clear()
        if created and created[0].pk is not None:
            # Bulk inserts send no model signals: write the change history here.
            record_bulk_history(self._meta.model, created, by=self.user, reason="表格导入", update=False)
            self.write_related(created, new=True)

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        updated = list(self.update_instances)
        super().bulk_update(using_transactions, dry_run, raise_errors, batch_size=batch_size, result=result)
        if updated:
            record_bulk_history(self._meta.model, updated, by=self.user, reason="表格导入")
            self.write_related(updated, new=False)

    def write_related(self, objs, *, new: bool) -> None:
        """Rows that belong to a batch just written (links, guardians…): override as needed."""

    def sheet_row(self, row_number: int | None) -> int:
        if row_number is None:
            return 0
        if 0 < row_number <= len(self._row_numbers):
            return self._row_numbers[row_number - 1]
        return row_number + 1

    # --- export --------------------------------------------------------------------------

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        mask = self.masked_fields.get(field.attribute)
        if mask is not None and not self.can_view_full_identity():
            value = mask(value)
        return neutralise_formula(value)

    # --- errors --------------------------------------------------------------------------

    def describe_errors(self, result, headers=None) -> list[SheetError]:
        """Every problem of an import result, with sheet row and column."""
        headers = list(headers or [])
        by_attribute = {}
        for field in self.get_import_fields():
            by_attribute.setdefault(field.attribute, field.column_name)
        for name, field in self.fields.items():
            by_attribute.setdefault(name, field.column_name)

        def column(attribute):
            header = by_attribute.get(attribute)
            if header is None:
                return ""
            letter = column_letter(headers.index(header)) if header in headers else ""
            return f"{letter}「{header}」"

        errors = [SheetError(0, "", _error_text(error.error)) for error in result.base_errors]
        if errors:
            return errors  # a problem with the whole file (e.g. missing columns) explains every row
        for invalid in result.invalid_rows:
            row = self.sheet_row(invalid.number)
            for attribute, messages in invalid.error_dict.items():
                where = "" if attribute == NON_FIELD_ERRORS else column(attribute)
                for message in messages:
                    errors.append(SheetError(row, where, str(message)))
        for error_row in result.error_rows:
            for error in error_row.errors:
                errors.append(SheetError(self.sheet_row(error_row.number), "", _error_text(error.error)))
        return sorted(set(errors))


def _error_text(exc) -> str:
    if isinstance(exc, SheetFileError):
        return str(exc)
    if isinstance(exc, ValidationError):
        return ";".join(exc.messages)
    name = exc.__class__.__name__
    if "IntegrityError" in name:
        return "与已有数据冲突(唯一性约束),未导入任何数据。"
    return f"导入失败({name}):{exc}"


@dataclass
class ImportOutcome:
    created: int
    updated: int
    errors: list[SheetError]

    @property
    def ok(self) -> bool:
        return not self.errors


def run_import(resource: BaseModelResource, dataset: tablib.Dataset, *, dry_run=False, file_name=None) -> ImportOutcome:
    """Import `dataset` all-or-nothing; on any error nothing is written and every error is returned."""
    with transaction.atomic():
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=False,
            use_transactions=True,
            rollback_on_validation_errors=True,
            file_name=file_name,
            user=resource.user,
        )
    errors = (
        resource.describe_errors(result, dataset.headers)
        if (result.has_errors() or result.has_validation_errors())
        else []
    )
    totals = result.totals
    return ImportOutcome(created=totals.get("new", 0), updated=totals.get("update", 0), errors=errors)


def read_sheet(data: bytes, file_name: str) -> tablib.Dataset:
    """Bytes of an uploaded .xlsx or .csv file as a dataset (SheetFileError when unreadable)."""
    lowered = file_name.lower()
    if lowered.endswith(".xlsx"):
        return XLSX().create_dataset(data)
    if lowered.endswith(".csv"):
        return CSV().create_dataset(data)
    raise SheetFileError("只支持 .xlsx 和 .csv 文件。")
