#!/usr/bin/env python3
"""Runs duckdb_change.sql (pain change by condition, in DuckDB SQL) on a CSV file.

Usage: duckdb_change.py FILE.csv

Lines starting with "CHANGE\t" are read by benches/peers/agree.py to check the
result against prolo's summary.json.
"""

import pathlib
import sys
import time

import duckdb


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: duckdb_change.py FILE.csv")
    t0 = time.perf_counter()
    path = sys.argv[1].replace("'", "''")
    sql = (pathlib.Path(__file__).with_name("duckdb_change.sql")).read_text()
    rows = duckdb.connect().execute(sql.replace("{csv}", f"'{path}'")).fetchall()
    elapsed = time.perf_counter() - t0
    print(f"duckdb {duckdb.__version__}: pain change by condition")
    print(f"{'condition':<24} {'n':>8} {'mean change':>12} {'SD':>8}")
    for condition, n, mean, sd in rows:
        print(f"{condition or 'all':<24} {n:>8} {mean:>12.4f} {sd:>8.4f}")
    for condition, n, mean, _ in rows:
        print(f"CHANGE\t{condition or 'all'}\t{n}\t{mean!r}")
    print(f"time: total {elapsed:.2f} s (after imports)")


if __name__ == "__main__":
    main()
