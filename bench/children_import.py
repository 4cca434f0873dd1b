"""Benchmark: import generated children from CSV and XLSX on PostgreSQL, the coordinators' way.

For each size (10,000 and 100,000 rows by default) it generates one CSV and one XLSX file of
children (Chinese headers, village by division code, categories, needs, two guardians) and
imports them through `children.resources.ChildResource` + `aixinmama.resources.run_import`
(every validation on: widgets, the model's clean(), jurisdiction of the importing city staff
member, duplicate keys; all-or-nothing), beside

- a stock django-import-export `ModelResource` for Child (default options; only the columns
  it can map, `import_id_fields = ["id_number"]` so it can run on the file at all), and
- a raw PostgreSQL `COPY` of the same CSV into a bare table of text columns,

and prints rows per second and peak memory (ru_maxrss of a fresh process per measurement,
so each figure includes Python + Django, ~70 MB). It then imports a copy of the 10,000-row
file with a few broken cells to show that every error still comes back with row and column.

Uses a scratch database, dropped and created again each run:

    .venv/bin/python bench/children_import.py [--sizes 10000 100000] [--stock-sizes 10000]
        [--server postgres://postgres@127.0.0.1:5432] [--database aixinmama_bench_children]
"""

import argparse
import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADERS = [
    "姓名",
    "性别",
    "身份证号码",
    "出生日期",
    "所在村(居)代码",
    "居住地址",
    "就读学校",
    "年级",
    "困境类别",
    "帮扶需求",
    "风险等级",
    "风险等级调整原因",
    "监护人1姓名",
    "监护人1关系",
    "监护人1电话",
    "监护人1是否同住",
    "监护人2姓名",
    "监护人2关系",
    "监护人2电话",
    "监护人2是否同住",
]


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixinmama.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DEBUG", "off")
    import django

    django.setup()


def recreate_database(server, name):
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


# --- generating the files ----------------------------------------------------------------


def generate_rows(villages, count, seed=7):
    from aixinmama.identity import make_id_number

    rng = random.Random(seed)
    surnames = "陈林黄张李王吴刘蔡杨郑许洪曾苏叶庄谢柯卢"
    given = "雨欣怡婷佳琪梓涵浩宇俊杰子轩博文睿泽晨阳"
    categories = ["留守儿童", "流动儿童", "低保/特困家庭儿童", "残疾儿童", "孤儿"]
    needs = ["生活帮助", "学习帮扶", "心理疏导", "家庭教育"]
    risks = ["绿", "绿", "绿", "黄", "黄", "橙", "红"]
    seen = set()
    today = datetime.date(2025, 9, 1)
    for i in range(count):
        village = villages[i % len(villages)]
        sex = "male" if rng.random() < 0.5 else "female"
        birth = today - datetime.timedelta(days=rng.randrange(3 * 365, 17 * 365))
        seq = rng.randrange(500)
        number = make_id_number(village[:6], birth, seq, sex)
        while number in seen:
            seq += 1
            number = make_id_number(village[:6], birth, seq, sex)
        seen.add(number)
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        risk = rng.choice(risks)
        yield [
            name,
            "男" if sex == "male" else "女",
            number,
            birth.isoformat(),
            village,
            f"某某路{rng.randint(1, 300)}号",
            "实验小学",
            "三年级",
            "、".join(rng.sample(categories, rng.choice((1, 2)))),
            "、".join(rng.sample(needs, rng.choice((1, 2, 3)))),
            risk,
            "" if risk == "绿" else "家庭变故",
            name[0] + "阿公",
            "祖父/外祖父",
            f"139{rng.randrange(10**8):08d}",
            "是",
            name[0] + "母",
            "母亲",
            f"138{rng.randrange(10**8):08d}",
            "否",
        ]


def write_files(villages, count, directory):
    csv_path = directory / f"children-{count}.csv"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(generate_rows(villages, count))
    import openpyxl

    xlsx_path = directory / f"children-{count}.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("儿童")
    sheet.append(HEADERS)
    for row in generate_rows(villages, count):
        sheet.append(row)
    book.save(xlsx_path)
    return csv_path, xlsx_path


# --- one measurement per process ---------------------------------------------------------


def stock_resource_class():
    from import_export import fields, resources, widgets

    from children.models import Child
    from teams.models import Federation

    class StockChildResource(resources.ModelResource):
        # Default options; columns mapped to the file's headers so it can read the same file.
        name = fields.Field(attribute="name", column_name="姓名")
        sex = fields.Field(attribute="sex", column_name="性别")
        id_number = fields.Field(attribute="id_number", column_name="身份证号码")
        birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget())
        village = fields.Field(
            attribute="village",
            column_name="所在村(居)代码",
            widget=widgets.ForeignKeyWidget(Federation, field="division_code"),
        )
        address = fields.Field(attribute="address", column_name="居住地址")
        school = fields.Field(attribute="school", column_name="就读学校")
        grade = fields.Field(attribute="grade", column_name="年级")

        class Meta:
            model = Child
            fields = ["name", "sex", "id_number", "birth_date", "village", "address", "school", "grade"]
            import_id_fields = ["id_number"]

    return StockChildResource


def worker(method, path):
    from django.db import connection

    from teams.models import User

    started = time.perf_counter()
    rows = errors = 0
    if method == "copy":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bare_children")
            columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
            cursor.execute(f"CREATE TABLE bare_children ({columns})")
        started = time.perf_counter()
        raw = connection.connection
        with raw.cursor() as cur, open(path, "rb") as source:
            with cur.copy("COPY bare_children FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            rows = cur.rowcount
    else:
        from aixinmama.resources import read_sheet, run_import
        from children.models import Child
        from children.resources import ChildResource

        data = Path(path).read_bytes()
        dataset = read_sheet(data, Path(path).name)
        if method == "ours":
            user = User.objects.get(username="bench-city")
            outcome = run_import(ChildResource(user=user), dataset)
            errors = len(outcome.errors)
            # Rows actually in the database afterwards (all-or-nothing: 0 when there were errors).
            rows = Child.objects.count()
            first_errors = [str(e) for e in outcome.errors[:5]]
        else:
            result = stock_resource_class()().import_data(dataset, dry_run=False, use_transactions=True)
            errors = len(result.invalid_rows) + len(result.row_errors())
            rows = result.totals.get("new", 0) + result.totals.get("update", 0)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"rows": rows, "seconds": elapsed, "peak_mb": peak_mb, "errors": errors}
    if method == "ours":
        out["first_errors"] = first_errors
    print(json.dumps(out, ensure_ascii=False))


def reset_children(url):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE children_child, children_guardian, children_consentrecord, "
            "children_child_categories, children_child_needs RESTART IDENTITY CASCADE"
        )
        conn.execute("DROP TABLE IF EXISTS bare_children")


def measure(url, method, path):
    reset_children(url)
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, __file__, "--worker", method, str(path), "--url", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{method} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def broken_copy(csv_path, directory):
    """The same file with a few broken cells, to show row/column errors at scale."""
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    rows = [next(csv.reader([line])) for line in lines]
    rows[10][2] = rows[10][2][:-1] + ("0" if rows[10][2][-1] != "0" else "1")  # check digit
    rows[500][4] = "999999999999"  # unknown village
    rows[2000][14] = "12345"  # bad phone
    rows[7000][2] = rows[3][2]  # duplicate ID number
    path = directory / "children-broken.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--stock-sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="aixinmama_bench_children")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        setup_django(args.url)
        worker(*args.worker)
        return

    url = recreate_database(args.server, args.database)
    setup_django(url)
    from django.core.management import call_command

    from teams.divisions import import_divisions
    from teams.models import Federation, User

    call_command("migrate", verbosity=0)
    import_divisions(ROOT / "data" / "xiamen-divisions.csv")
    city = Federation.objects.get(division_code="3502")
    User.objects.create_user(username="bench-city", federation=city, is_staff=True)
    villages = list(
        Federation.objects.filter(level="village", kind="territorial")
        .order_by("path")
        .values_list("division_code", flat=True)
    )

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for size in args.sizes:
            started = time.perf_counter()
            csv_path, xlsx_path = write_files(villages, size, directory)
            print(f"generated {size:,} rows in {time.perf_counter() - started:.1f}s", flush=True)
            runs = [("COPY", "copy", csv_path), ("ours", "ours", csv_path), ("ours", "ours", xlsx_path)]
            if size in args.stock_sizes:
                runs += [("stock", "stock", csv_path), ("stock", "stock", xlsx_path)]
            for label, method, path in runs:
                figures = measure(url, method, path)
                rate = figures["rows"] / figures["seconds"] if figures["seconds"] else 0
                results.append((size, path.suffix[1:].upper(), label, figures, rate))
                print(
                    f"{size:>7,} {path.suffix[1:].upper():<4} {label:<5} {figures['rows']:>7,} rows "
                    f"{figures['seconds']:8.1f}s {rate:9,.0f} rows/s  peak {figures['peak_mb']:6.0f} MB"
                    f"  errors {figures['errors']}",
                    flush=True,
                )
        if 10_000 in args.sizes:
            broken = broken_copy(directory / "children-10000.csv", directory)
            figures = measure(url, "ours", broken)
            print(f"\nbroken 10,000-row CSV: {figures['rows']} rows written, {figures['errors']} errors:")
            for line in figures["first_errors"]:
                print(f"  {line}")

    print("\nsummary (rows/s):")
    by_key = {(size, fmt, label): rate for size, fmt, label, _, rate in results}
    for size in args.sizes:
        for fmt in ("CSV", "XLSX"):
            ours = by_key.get((size, fmt, "ours"))
            stock = by_key.get((size, fmt, "stock"))
            copy = by_key.get((size, "CSV", "COPY"))
            line = f"  {size:>7,} {fmt:<4} ours {ours:9,.0f}"
            if stock:
                line += f"  stock {stock:7,.0f}  ours/stock {ours / stock:5.1f}x"
            if copy:
                line += f"  COPY(csv) {copy:9,.0f}"
            print(line)


if __name__ == "__main__":
    main()
