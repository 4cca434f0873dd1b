"""Benchmark: load all of China's division codes with `manage.py import_divisions` on PostgreSQL.

Prints the command's elapsed time and rows per second beside a raw PostgreSQL COPY of the
same file into a bare table, and their ratio. Uses a scratch database (dropped and created
again each run); the server defaults to the local one.

    .venv/bin/python bench/divisions_import.py [FILE] [--server postgres://postgres@127.0.0.1:5432]
"""

import argparse
import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "china-divisions.csv.gz"
SCRATCH_DB = "aixinmama_bench_divisions"


def recreate_database(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def raw_copy_seconds(url: str, path: Path) -> tuple[float, int]:
    opener = gzip.open if path.suffix == ".gz" else open
    with psycopg.connect(url) as conn:
        # Created and committed first: COPY into a table made in the same transaction may skip
        # the write-ahead log, which no real import can do.
        conn.execute("CREATE TABLE bare (code text, name text, level text, parent_code text)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, opener(path, "rb") as source:
            with cur.copy("COPY bare FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM bare").fetchone()[0]
        conn.execute("DROP TABLE bare")
        conn.commit()
    return seconds, rows


def manage(url: str, *args: str) -> float:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "on"}
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    url = recreate_database(args.server, SCRATCH_DB)
    copy_seconds, rows = raw_copy_seconds(url, args.file)
    print(f"raw COPY into a bare table: {rows:,} rows in {copy_seconds:.2f} s ({rows / copy_seconds:,.0f} rows/s)")

    manage(url, "migrate", "--noinput", "-v0")
    first = manage(url, "import_divisions", str(args.file))
    second = manage(url, "import_divisions", str(args.file))
    with psycopg.connect(url) as conn:
        loaded = conn.execute("SELECT count(*) FROM teams_federation").fetchone()[0]
    print(f"import_divisions (empty table): {loaded:,} units in {first:.2f} s ({loaded / first:,.0f} rows/s),")
    print(f"  {first / copy_seconds:.1f}x the raw COPY (goal: under 60 s and within 6x)")
    print(f"import_divisions again (nothing to change): {second:.2f} s")
    print("(times include starting Python and Django, about 0.5 s)")


if __name__ == "__main__":
    main()
