"""Benchmark: the coverage page with 100,000 children and 1,000,000 activity logs on PostgreSQL.

Fills a scratch database (dropped and created again each run) with the Xiamen hierarchy, a
community team per village, 100,000 children spread over the 555 villages (about 90% paired,
some also with a second team), and 1,000,000 activity logs linked to the pairings, written
with set-based INSERT … SELECT. Then prints the server time of the coverage selector and of
the admin coverage page (Django test client, signed-in superuser) for the city and for one
district: the best and the median of several runs, and the number of queries.

    .venv/bin/python bench/coverage.py [--server postgres://postgres@127.0.0.1:5432]
        [--children 100000] [--logs 1000000] [--runs 5]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SCRATCH_DB = "aixinmama_bench_coverage"


def recreate_database(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def manage(url: str, *args: str):
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "on"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


FILL_SQL = """
INSERT INTO teams_team (name, kind, category, federation_id, host_organisation, description, capacity,
                        created_at, updated_at)
SELECT f.name || '社区队伍', 'community', '', f.id, '', '', 32000, now(), now()
FROM teams_federation f WHERE f.level = 'village';

CREATE TEMP TABLE v AS
SELECT row_number() OVER (ORDER BY f.id) - 1 AS n, f.id AS village_id, t.id AS team_id
FROM teams_federation f JOIN teams_team t ON t.federation_id = f.id WHERE f.level = 'village';

INSERT INTO children_child (name, sex, id_number, birth_date, village_id, address, school, grade, risk_grade,
                            risk_reason, status, exit_reason, exit_note, created_at, updated_at)
SELECT '儿童' || i, CASE WHEN i %% 2 = 0 THEN 'female' ELSE 'male' END, lpad(i::text, 18, '0'),
       date '2010-01-01' + (i %% 4000), v.village_id, '', '', '',
       (ARRAY['red','orange','yellow','green','green','green'])[1 + i %% 6], '', 'in_programme', '', '', now(), now()
FROM generate_series(1, %(children)s) AS i JOIN v ON v.n = i %% (SELECT count(*) FROM v);

-- About 90 percent of the children paired with their village's team; every 20th also with a neighbour's.
INSERT INTO pairing_pairing (child_id, team_id, start_date, status, end_reason, end_note, reason, created_at)
SELECT c.id, v.team_id, current_date - (c.id %% 700)::int, 'active', '', '', '', now()
FROM children_child c JOIN v ON v.village_id = c.village_id WHERE c.id %% 10 <> 0;
INSERT INTO pairing_pairing (child_id, team_id, start_date, status, end_reason, end_note, reason, created_at)
SELECT c.id, v2.team_id, current_date - 30, 'active', '', '', '', now()
FROM children_child c JOIN v ON v.village_id = c.village_id
JOIN v AS v2 ON v2.n = (v.n + 1) %% (SELECT count(*) FROM v)
WHERE c.id %% 20 = 1;

CREATE TEMP TABLE p AS
SELECT row_number() OVER (ORDER BY p.id) - 1 AS n, p.id, p.team_id, t.federation_id
FROM pairing_pairing p JOIN teams_team t ON t.id = p.team_id;

INSERT INTO pairing_activitylog (federation_id, team_id, is_group, date, kind, mode, duration_minutes,
                                 children_reached, parents_reached, place, description, status, review_comment,
                                 created_at, updated_at)
SELECT p.federation_id, p.team_id, false, current_date - ((i * 7) %% 400), 'home_visit', 'offline', 60, 1, 1,
       '', '', CASE WHEN i %% 25 = 0 THEN 'returned' WHEN i %% 5 = 0 THEN 'submitted' ELSE 'approved' END, '',
       now(), now()
FROM generate_series(0, %(logs)s - 1) AS i JOIN p ON p.n = i %% (SELECT count(*) FROM p);

INSERT INTO pairing_activitylog_pairings (activitylog_id, pairing_id)
SELECT l.id, p.id
FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM pairing_activitylog) l
JOIN p ON p.n = l.n %% (SELECT count(*) FROM p);

-- The derived column the services keep (pairing.services.refresh_last_activity), set in one pass.
UPDATE pairing_pairing SET last_activity_on = m.last
FROM (SELECT lp.pairing_id, max(l.date) AS last
      FROM pairing_activitylog_pairings lp JOIN pairing_activitylog l ON l.id = lp.activitylog_id
      WHERE l.status IN ('submitted', 'approved') GROUP BY lp.pairing_id) m
WHERE m.pairing_id = pairing_pairing.id;
"""


def fill(url: str, children: int, logs: int):
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for statement in FILL_SQL.split(";\n"):
            if statement.strip():
                conn.execute(statement % {"children": children, "logs": logs})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in ["children_child", "pairing_pairing", "pairing_activitylog"]
        }
    return time.perf_counter() - started, counts


def measure(runs: int):
    import django
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    django.setup()
    from pairing.selectors import coverage
    from teams.models import Federation, User

    city = Federation.objects.get(division_code="3502")
    district = Federation.objects.get(division_code="350212")  # 同安区
    admin = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench",
        password="x",
        federation=city,  # noqa: S106
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    for unit in (city, district):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = coverage(unit)
            times.append((time.perf_counter() - started) * 1000)
        total = result.total
        print(
            f"selector  {unit.name}: best {min(times):.0f} ms, median {statistics.median(times):.0f} ms "
            f"({total.children} children, {total.paired} paired, {total.unpaired} unpaired, {total.overdue} overdue)"
        )
        url = reverse("admin:pairing_coverage_unit", args=[unit.pk])
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        print(
            f"page      {unit.name}: best {min(times):.0f} ms, median {statistics.median(times):.0f} ms "
            f"({len(queries)} queries)"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="measure an already filled scratch database")
    args = parser.parse_args()
    url = f"{args.server}/{SCRATCH_DB}"
    if not args.reuse:
        url = recreate_database(args.server, SCRATCH_DB)
        manage(url, "migrate", "-v", "0")
        manage(url, "import_divisions", str(ROOT / "data" / "xiamen-divisions.csv"))
        seconds, counts = fill(url, args.children, args.logs)
        print(f"filled in {seconds:.1f} s: {counts}")
    else:
        manage(url, "migrate", "-v", "0")  # a database filled by an older version gets new columns
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "on")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixinmama.settings")
    sys.path.insert(0, str(ROOT))
    measure(args.runs)


if __name__ == "__main__":
    main()
