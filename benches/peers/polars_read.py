#!/usr/bin/env python3
"""The floor: Python polars reading the CSV file (every column) and nothing else.

Usage: polars_read.py FILE.csv | FILE.parquet

Scores are read as floats (a score may be 4.5 after the first rows that
polars samples to infer types); everything else is inferred. Given a Parquet
file, polars reads it (every column, as stored) and nothing else: the suite
compares the two reads: about the most issue 6's Parquet target could ask
of a tool that reads either format and nothing else.
"""

import sys
import time

import polars as pl


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: polars_read.py FILE.csv | FILE.parquet")
    path = sys.argv[1]
    t0 = time.perf_counter()
    if path.endswith(".parquet"):
        df = pl.read_parquet(path)
    else:
        df = pl.read_csv(path, schema_overrides={"pain": pl.Float64, "function": pl.Float64})
    elapsed = time.perf_counter() - t0
    print(f"polars {pl.__version__}: {df.height} rows, {df.width} columns")
    print(f"time: read {elapsed:.2f} s (after imports)")


if __name__ == "__main__":
    main()
