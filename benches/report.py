#!/usr/bin/env python3
"""Turns the timings collected by benches/run.sh into a table, ratios and results.md.

Usage: report.py WORK_DIR OUT.md   (standard library only)

WORK_DIR holds what run.sh wrote:
  times.tsv      tool, size, status, walls (s, comma-separated), peak RSS (KiB, comma-separated)
  datasets.tsv   size, rows, CSV bytes, Parquet bytes, typed Parquet bytes (or -)
  agreement.tsv  size, peer, verdict
  notes.txt      one note a line (skipped peers, failures)
  machine.tsv    key, value (machine, versions, command)
"""

import statistics
import sys
from pathlib import Path

TOOLS = [
    ("prolo-validate", "prolo validate (CSV)"),
    ("prolo-analyze-csv", "prolo analyze (CSV)"),
    ("prolo-analyze-parquet", "prolo analyze (Parquet, text columns)"),
    ("prolo-analyze-typed-parquet", "prolo analyze (Parquet, typed columns)"),
    ("polars-read", "polars read_csv (floor)"),
    ("polars-read-parquet", "polars read_parquet (Parquet, text columns)"),
    ("polars-read-typed-parquet", "polars read_parquet (Parquet, typed columns)"),
    ("duckdb-change", "DuckDB change by condition"),
    ("pandas-pipeline", "pandas + SciPy + lifelines"),
    # The many-conditions case (run.sh --conditions K): "{k}" is K.
    ("prolo-analyze-many", "prolo analyze (CSV, {k} conditions)"),
    ("duckdb-change-many", "DuckDB change by condition ({k} conditions)"),
    ("pandas-pipeline-many", "pandas + SciPy + lifelines ({k} conditions)"),
]

# (label, numerator, denominator, kind, target, better): kind "time" or "memory"; a ratio
# without a target (None) is context: polars' own CSV / Parquet ratio is the floor of the
# Parquet target (reading alone, no checks, no analyses).
RATIOS = [
    ("pandas / prolo analyze", "pandas-pipeline", "prolo-analyze-csv", "time", 25.0, ">="),
    ("DuckDB / prolo analyze", "duckdb-change", "prolo-analyze-csv", "time", 2.0, ">="),
    ("prolo analyze / polars read", "prolo-analyze-csv", "polars-read", "time", 1.5, "<="),
    ("prolo analyze CSV / Parquet", "prolo-analyze-csv", "prolo-analyze-parquet", "time", 3.0, ">="),
    ("prolo analyze CSV / typed Parquet", "prolo-analyze-csv", "prolo-analyze-typed-parquet", "time", 3.0, ">="),
    ("polars read_csv / read_parquet (text columns)", "polars-read", "polars-read-parquet", "time", None, None),
    ("polars read_csv / read_parquet (typed columns)", "polars-read", "polars-read-typed-parquet", "time", None, None),
    ("prolo analyze peak memory / CSV size", "prolo-analyze-csv", "csv-bytes", "memory", 1.0, "<"),
    ("pandas / prolo analyze, {k} conditions", "pandas-pipeline-many", "prolo-analyze-many", "time", 25.0, ">="),
    ("DuckDB / prolo analyze, {k} conditions", "duckdb-change-many", "prolo-analyze-many", "time", 2.0, ">="),
]


def read_tsv(path):
    if not path.exists():
        return []
    return [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if line.strip()]


def fmt_size(n):
    """12345 → 12,345; "200000 (3000 conditions)" → "200,000 (3000 conditions)"."""
    first, _, rest = str(n).partition(" ")
    return f"{int(first):,}" + (f" {rest}" if rest else "")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py WORK_DIR OUT.md")
    work, out = Path(sys.argv[1]), Path(sys.argv[2])
    machine = dict((row[0], row[1]) for row in read_tsv(work / "machine.tsv") if len(row) == 2)
    k = machine.get("conditions", "?")
    tools = [(tool, label.format(k=k)) for tool, label in TOOLS]
    ratios = [(label.format(k=k), *rest) for label, *rest in RATIOS]
    datasets = {row[0]: row for row in read_tsv(work / "datasets.tsv")}
    notes = [line for line in (work / "notes.txt").read_text().splitlines() if line.strip()] if (
        work / "notes.txt"
    ).exists() else []

    times = {}  # (tool, size) -> (status, median wall, median peak MiB, walls)
    sizes = []
    for tool, size, status, walls, rss in read_tsv(work / "times.tsv"):
        if size not in sizes:
            sizes.append(size)
        w = [float(x) for x in walls.split(",") if x]
        m = [int(x) / 1024 for x in rss.split(",") if x]
        times[(tool, size)] = (
            status,
            statistics.median(w) if w else None,
            statistics.median(m) if m else None,
            w,
        )

    # Table of times.
    head = "| tool | courses | median wall (s) | peak memory (MiB) | runs (s) |"
    rule = "| --- | ---: | ---: | ---: | --- |"
    table = [head, rule]
    for size in sizes:
        for tool, label in tools:
            if (tool, size) not in times:
                continue
            status, wall, mib, walls = times[(tool, size)]
            if status != "ok":
                table.append(f"| {label} | {fmt_size(size)} | {status} | | |")
                continue
            runs = ", ".join(f"{w:.2f}" for w in walls)
            table.append(f"| {label} | {fmt_size(size)} | {wall:.2f} | {mib:,.0f} | {runs} |")

    # Ratios.
    ratio_lines = ["| courses | ratio | value | target (issue 6, at 2,000,000 courses) |", "| ---: | --- | ---: | --- |"]
    for size in sizes:
        for label, num, den, kind, target, better in ratios:
            a = times.get((num, size))
            if kind == "time":
                b = times.get((den, size))
                if not a or not b or a[0] != "ok" or b[0] != "ok" or not b[1]:
                    continue
                value = a[1] / b[1]
            else:
                if not a or a[0] != "ok" or size not in datasets:
                    continue
                value = a[2] * 1024 * 1024 / int(datasets[size][2])
            if target is None:
                ratio_lines.append(f"| {fmt_size(size)} | {label} | {value:.2f} | none (polars' read-only ratio, for comparison) |")
                continue
            met = {">=": value >= target, "<=": value <= target, "<": value < target}[better]
            verdict = "met" if met else "missed"
            ratio_lines.append(f"| {fmt_size(size)} | {label} | {value:.2f} | {better} {target:g}: {verdict} |")

    data_lines = [
        "| courses | rows | CSV (MiB) | Parquet, text columns (MiB) | Parquet, typed columns (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    mib_of = lambda b: f"{int(b) / 2**20:,.1f}" if b != "-" else "-"
    for size in sizes:
        if size in datasets:
            _, rows, csv_bytes, pq_bytes, *typed = datasets[size]
            typed = typed[0] if typed else "-"
            data_lines.append(
                f"| {fmt_size(size)} | {int(rows):,} | {mib_of(csv_bytes)} | {mib_of(pq_bytes)} | {mib_of(typed)} |"
            )

    agreement = [f"- {fmt_size(size)} courses, {peer}: {verdict}" for size, peer, verdict in read_tsv(work / "agreement.tsv")]

    versions = [f"- {k[len('version '):]}: {v}" for k, v in machine.items() if k.startswith("version ")]
    md = [
        "# prolo benchmark results",
        "",
        f"Made by `{machine.get('command', 'benches/run.sh')}` on {machine.get('date', '?')}.",
        f"Each time is the median of {machine.get('runs', '?')} run(s), end to end (process start to exit, "
        "Python imports included), measured with `/usr/bin/time -f \"%e %M\"`; peak memory is the maximum "
        "resident set size (median over the runs).",
        "",
        "## Machine",
        "",
        f"- CPU: {machine.get('cpu', '?')}, {machine.get('nproc', '?')} cores (`nproc`)",
        f"- memory: {machine.get('memory', '?')}",
        f"- system: {machine.get('system', '?')}",
        "",
        "## Versions",
        "",
        *versions,
        "",
        "## Data sets (`prolo synth --seed 1`; the typed Parquet copy written by polars from the CSV)",
        "",
        *data_lines,
        *(
            [
                "",
                f"The many-conditions case: the first size's CSV with its courses spread over {k} conditions "
                "(`tests/fixtures/many_conditions/remap.py`; a registry that codes conditions finely).",
            ]
            if k not in ("?", "0")
            else []
        ),
        "",
        "## Times",
        "",
        *table,
        "",
        "## Ratios",
        "",
        *ratio_lines,
        "",
        "## Do the peers compute the same thing?",
        "",
        "Pain change by condition (n and mean change) and, for pandas, the Kaplan-Meier median and response by "
        "3 injections, compared with prolo's `summary.json` (relative tolerance 1e-6); and prolo's results "
        "from the Parquet copies compared with those from the CSV:",
        "",
        *(agreement or ["- not checked"]),
        "",
    ]
    if notes:
        md += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    out.write_text("\n".join(md))

    # The same on the terminal, compactly.
    print()
    print(f"{'tool':<46} {'courses':>10} {'median s':>9} {'peak MiB':>9}")
    for size in sizes:
        for tool, label in tools:
            if (tool, size) in times:
                status, wall, mib, _ = times[(tool, size)]
                if status == "ok":
                    print(f"{label:<46} {int(size):>10,} {wall:>9.2f} {mib:>9,.0f}")
                else:
                    print(f"{label:<46} {int(size):>10,} {status:>9}")
    print()
    for line in ratio_lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        print(f"{cells[0]:>10} courses  {cells[1]:<46} {cells[2]:>7}   {cells[3]}")
    if agreement:
        print()
        print("\n".join(agreement))
    if notes:
        print()
        print("\n".join(f"note: {n}" for n in notes))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
