#!/usr/bin/env python3
"""The floor: Python polars reading the CSV file (every column) and nothing else.

Usage: polars_read.py FILE.csv

Scores are read as floats (a score may be 4.5 after the first rows that
polars samples to infer types); everything else is inferred.
"""

import sys
import time

import polars as pl


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: polars_read.py FILE.csv")
    t0 = time.perf_counter()
    df = pl.read_csv(sys.argv[1], schema_overrides={"pain": pl.Float64, "function": pl.Float64})
    elapsed = time.perf_counter() - t0
    print(f"polars {pl.__version__}: {df.height} rows, {df.width} columns")
    print(f"time: read {elapsed:.2f} s (after imports)")


if __name__ == "__main__":
    main()
