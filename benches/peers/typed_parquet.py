#!/usr/bin/env python3
"""Writes a CSV file as Parquet the way a pandas or polars user would: typed columns
(integers, floats, text as polars infers them), polars' default compression and row groups.

Usage: typed_parquet.py FILE.csv OUT.parquet

`prolo synth` writes its Parquet copy with every column as text; files from other tools
hold numbers, which prolo reads as the text a CSV would hold. This copy times that path.
"""

import sys

import polars as pl


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: typed_parquet.py FILE.csv OUT.parquet")
    df = pl.read_csv(sys.argv[1], schema_overrides={"pain": pl.Float64, "function": pl.Float64})
    df.write_parquet(sys.argv[2])
    print(f"polars {pl.__version__}: {df.height} rows, {dict(df.schema)}")


if __name__ == "__main__":
    main()
