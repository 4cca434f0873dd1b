"""Loading official division codes (统计用区划代码) into the federation hierarchy.

The file format is the one of `data/xiamen-divisions.csv`: a header
`code,name,level,parent_code`, UTF-8, plain or gzipped. The whole file is validated before
anything is written; the write is one transaction, so a bad file leaves the table as it
was. Rows are created or updated by code, so loading a file twice changes nothing.
"""

import csv
import gzip
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr

from .models import Federation, FederationKind
from .models.federation import CODE_LENGTH, LEVEL_RANK

HEADER = ["code", "name", "level", "parent_code"]
MAX_REPORTED_ERRORS = 50
NAME_MAX_LENGTH = Federation._meta.get_field("name").max_length


class DivisionFileError(Exception):
    """The file cannot be loaded; `errors` lists (line number, reason)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("\n".join(f"第 {line} 行: {reason}" for line, reason in errors))


@dataclass(slots=True)
class DivisionRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str
    path: str = ""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _read_text(path: Path) -> str:
    """The whole file as text; a byte that is not UTF-8 is reported with its line number."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw:
        data = raw.read()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DivisionFileError([(line, "不是 UTF-8 编码的文本;请将文件另存为 UTF-8 后重新导入。")]) from None


def read_division_file(path: Path, progress: Callable[[int], None] | None = None) -> list[DivisionRow]:
    """Parse and check every row on its own (format, code, level, duplicates)."""
    errors: list[tuple[int, str]] = []
    rows: list[DivisionRow] = []
    first_line_of: dict[str, int] = {}
    reader = csv.reader(io.StringIO(_read_text(path), newline=""))
    header = next(reader, None)
    if header is None:
        raise DivisionFileError([(1, "文件为空,缺少表头 code,name,level,parent_code。")])
    if [h.strip() for h in header] != HEADER:
        raise DivisionFileError([(1, f"表头应为 {','.join(HEADER)},实际为 {','.join(header)!r}。")])

    for fields in reader:
        number = reader.line_num
        if not fields:
            continue
        if progress and number % 100_000 == 0:
            progress(number)
        if len(fields) != 4:
            errors.append((number, f"应有 4 列,实际 {len(fields)} 列。"))
        else:
            code, name, level, parent_code = fields
            # Strip only where needed: the official files are clean, and this loop runs 665,276 times.
            if not (code.isdigit() and level in LEVEL_RANK and name == name.strip()):
                code, name, level, parent_code = (f.strip() for f in fields)
            reason = _check_row(code, name, level, parent_code)
            if reason:
                errors.append((number, reason))
            elif code in first_line_of:
                errors.append((number, f"区划代码 {code} 重复(第 {first_line_of[code]} 行已出现)。"))
            else:
                first_line_of[code] = number
                rows.append(DivisionRow(number, code, name, level, parent_code.strip()))
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    if errors:
        raise DivisionFileError(errors)
    return rows


def _check_row(code: str, name: str, level: str, parent_code: str) -> str | None:
    if level not in LEVEL_RANK:
        return f"层级 {level!r} 无效,应为 {', '.join(LEVEL_RANK)} 之一。"
    if not code.isascii() or not code.isdigit() or len(code) != CODE_LENGTH[level]:
        return f"区划代码 {code!r} 格式错误:{level} 级单位的代码应为 {CODE_LENGTH[level]} 位数字。"
    if not name:
        return "名称为空。"
    if len(name) > NAME_MAX_LENGTH:
        return f"名称超过 {NAME_MAX_LENGTH} 个字符。"
    if parent_code and not (parent_code.isascii() and parent_code.isdigit()):
        return f"上级区划代码 {parent_code!r} 格式错误。"
    if parent_code and not code.startswith(parent_code):
        return f"区划代码 {code} 不在上级 {parent_code} 之下(应以上级代码开头)。"
    return None


def resolve_tree(rows: list[DivisionRow], existing: dict[str, tuple]) -> list[tuple[int, str]]:
    """Check each row's parent (in the file or already loaded) and compute its path.

    `existing` maps a code already in the database to (id, name, level, parent_id, path).
    Returns the errors; fills `row.path` when there are none.
    """
    errors: list[tuple[int, str]] = []
    by_code = {row.code: row for row in rows}
    # Parents sort before their children by code length, so one pass in that order works.
    for row in sorted(rows, key=lambda r: len(r.code)):
        if not row.parent_code:
            row.path = row.code + "/"
            continue
        parent = by_code.get(row.parent_code)
        if parent is not None:
            parent_level, parent_path = parent.level, parent.path
        elif row.parent_code in existing:
            _, _, parent_level, _, parent_path = existing[row.parent_code]
        else:
            errors.append((row.line, f"上级区划代码 {row.parent_code} 不存在(文件中和系统中都没有)。"))
            continue
        if LEVEL_RANK[row.level] <= LEVEL_RANK[parent_level]:
            errors.append((row.line, f"{row.level} 级单位不能位于 {parent_level} 级上级 {row.parent_code} 之下。"))
            continue
        if not parent_path:  # the parent itself failed
            errors.append((row.line, f"上级区划代码 {row.parent_code} 所在行有错误。"))
            continue
        row.path = parent_path + row.code + "/"
    errors.sort()
    return errors[:MAX_REPORTED_ERRORS]


def import_divisions(path: Path, progress: Callable[[str], None] | None = None) -> ImportResult:
    started = time.perf_counter()
    say = progress or (lambda message: None)
    result = ImportResult()

    rows = read_division_file(path, progress=lambda n: say(f"已读取 {n:,} 行"))
    result.rows = len(rows)
    result.timings["read"] = time.perf_counter() - started

    with transaction.atomic():
        existing = {
            code: (pk, name, level, parent_id, p)
            for pk, code, name, level, parent_id, p in Federation.objects.filter(division_code__isnull=False)
            .order_by()
            .values_list("pk", "division_code", "name", "level", "parent_id", "path")
            .iterator(chunk_size=20_000)
        }
        errors = resolve_tree(rows, existing)
        if errors:
            raise DivisionFileError(errors)
        result.timings["check"] = time.perf_counter() - started

        new_rows = [row for row in rows if row.code not in existing]
        code_to_id = {code: values[0] for code, values in existing.items()}
        if new_rows:
            say(f"新增 {len(new_rows):,} 个单位")
            _create(new_rows, code_to_id)
        result.created = len(new_rows)

        changed, moved = [], []
        for row in rows:
            old = existing.get(row.code)
            if old is None:
                continue
            pk, name, level, parent_id, old_path = old
            new_parent_id = code_to_id.get(row.parent_code) if row.parent_code else None
            if (name, level, parent_id, old_path) != (row.name, row.level, new_parent_id, row.path):
                changed.append(
                    Federation(pk=pk, name=row.name, level=row.level, parent_id=new_parent_id, path=row.path)
                )
                if old_path != row.path:
                    moved.append((old_path, row.path))
        if changed:
            say(f"更新 {len(changed):,} 个单位")
            Federation.objects.bulk_update(changed, ["name", "level", "parent_id", "path"], batch_size=2000)
            _carry_subtrees(moved)
        result.updated = len(changed)
        result.unchanged = result.rows - result.created - result.updated

    result.seconds = time.perf_counter() - started
    return result


def _create(rows: list[DivisionRow], code_to_id: dict[str, int]) -> None:
    """Insert new units, parents first, filling `code_to_id` with their ids."""
    # In path order parents come first, and ids, codes and paths all grow together, so
    # every index receives its entries in order (appends, not scattered page splits).
    rows = sorted(rows, key=lambda r: r.path)
    if connection.vendor == "postgresql":
        _create_with_copy(rows, code_to_id)
        return
    for length in sorted({len(r.code) for r in rows}):
        batch = [
            Federation(
                name=r.name,
                level=r.level,
                kind=FederationKind.TERRITORIAL,
                division_code=r.code,
                parent_id=code_to_id.get(r.parent_code) if r.parent_code else None,
                path=r.path,
            )
            for r in rows
            if len(r.code) == length
        ]
        for unit in Federation.objects.bulk_create(batch, batch_size=500):
            code_to_id[unit.division_code] = unit.pk


# Above this many new rows (a provincial or national load), PostgreSQL builds the table's
# secondary indexes and checks its foreign keys once after COPY instead of row by row.
REBUILD_INDEXES_ABOVE = 100_000


def _create_with_copy(rows: list[DivisionRow], code_to_id: dict[str, int]) -> None:
    """PostgreSQL: reserve ids from the table's sequence, then stream rows with COPY."""
    table = Federation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        for row, pk in zip(rows, ids, strict=True):
            code_to_id[row.code] = pk
        rebuild = _set_aside_indexes(cursor, table) if len(rows) > REBUILD_INDEXES_ABOVE else []
        columns = "(id, name, level, kind, division_code, parent_id, path)"
        with cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
            territorial = FederationKind.TERRITORIAL.value
            for row, pk in zip(rows, ids, strict=True):
                parent_id = code_to_id[row.parent_code] if row.parent_code else None
                copy.write_row((pk, row.name, row.level, territorial, row.code, parent_id, row.path))
        for statement in rebuild:
            cursor.execute(statement)


def _set_aside_indexes(cursor, table: str) -> list[str]:
    """Drop the table's unique/foreign-key constraints and secondary indexes (not the primary
    key) and return the statements that recreate them exactly, names included. Runs inside
    the import's transaction: a failure restores everything, and readers wait meanwhile."""
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype IN ('u', 'f')
        """,
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [table],
    )
    indexes = cursor.fetchall()
    quoted = connection.ops.quote_name
    for name, _definition, _kind in constraints:
        cursor.execute(f"ALTER TABLE {quoted(table)} DROP CONSTRAINT {quoted(name)}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {quoted(name)}")
    # Indexes and unique constraints first, foreign keys last (they rely on the indexes).
    return (
        [definition for _name, definition in indexes]
        + [f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(n)} {d}" for n, d, k in constraints if k == "u"]
        + [f"ALTER TABLE {quoted(table)} ADD CONSTRAINT {quoted(n)} {d}" for n, d, k in constraints if k == "f"]
    )


def _carry_subtrees(moved: list[tuple[str, str]]) -> None:
    """Units not in the file below a moved unit (e.g. an enterprise's 妇女微家) follow it."""
    for old_path, new_path in sorted(moved, key=lambda m: len(m[0])):
        Federation.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1, Length(F("path"))))
        )
