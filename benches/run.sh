#!/usr/bin/env bash
# prolo benchmark suite (issue 6): prolo against what a researcher would use instead.
#
#   benches/run.sh [--sizes "200000 2000000"] [--runs 3] [--prolo PATH] [--conditions 3000]
#
# Builds prolo in release (unless --prolo), makes the data sets with `prolo synth` (and
# the first size's courses spread over --conditions conditions; 0 skips that case),
# installs the peers (pandas + SciPy + lifelines, DuckDB, polars) into benches/.venv,
# times everything end to end (median wall time and peak memory of --runs runs),
# checks that the peers computed the same numbers as prolo, prints the table and
# the ratios, and writes benches/results.md. See benches/README.md.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
DATA="$BENCH/data"
VENV="$BENCH/.venv"
PEERS="$BENCH/peers"

SIZES="200000 2000000"
RUNS=3
PROLO=""
CONDITIONS=3000
ARGS=("$@")

usage() {
    sed -n '4,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit "${1:-0}"
}
say() { printf '[bench] %s\n' "$*" >&2; }
die() {
    printf '[bench] error: %s\n' "$*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --sizes) [[ $# -ge 2 ]] || die "--sizes needs a value, e.g. --sizes \"200000 2000000\""; SIZES="$2"; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; RUNS="$2"; shift 2 ;;
    --prolo) [[ $# -ge 2 ]] || die "--prolo needs a path"; PROLO="$2"; shift 2 ;;
    --conditions) [[ $# -ge 2 ]] || die "--conditions needs a value, e.g. --conditions 3000"; CONDITIONS="$2"; shift 2 ;;
    -h | --help) usage 0 ;;
    *) printf '[bench] error: unknown argument %q\n' "$1" >&2; usage 2 ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not '$RUNS'"
read -r -a SIZE_LIST <<<"$SIZES"
[[ ${#SIZE_LIST[@]} -gt 0 ]] || die "--sizes is empty"
[[ "$CONDITIONS" =~ ^(0|[1-9][0-9]*)$ ]] || die "--conditions must be a whole number (0 skips the case), not '$CONDITIONS'"
for n in "${SIZE_LIST[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--sizes must be positive integers (courses), not '$n'"
done

command -v python3 >/dev/null || die "python3 is needed (for the peers and the report); install it (apt-get install python3 python3-venv)"

# --- 1. prolo -------------------------------------------------------------------------
if [[ -z "$PROLO" ]]; then
    command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) or pass --prolo PATH"
    say "building prolo in release (cargo build --release)"
    (cd "$ROOT" && cargo build --release --bin prolo) || die "cargo build --release failed"
    TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    PROLO="$TARGET_DIR/release/prolo"
fi
[[ -x "$PROLO" ]] || die "no prolo executable at $PROLO"
PROLO="$(cd "$(dirname "$PROLO")" && pwd)/$(basename "$PROLO")"
say "prolo: $PROLO ($("$PROLO" --version))"

# --- 2. /usr/bin/time ------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
    say "/usr/bin/time is missing: installing Debian's 'time' package"
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "/usr/bin/time is missing and this is not root: apt-get install time"
        SUDO="sudo"
    fi
    $SUDO apt-get install -y -q time >/dev/null 2>&1 ||
        { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q time >/dev/null; } ||
        die "could not install the 'time' package (apt-get install time)"
fi

# --- 3. data sets ----------------------------------------------------------------------
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$DATA/run-$STAMP"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
: >"$WORK/times.tsv"
: >"$WORK/datasets.tsv"
: >"$WORK/agreement.tsv"
: >"$WORK/notes.txt"
note() {
    say "note: $*"
    printf '%s\n' "$*" >>"$WORK/notes.txt"
}

make_data() { # make_data COURSES FILE
    local n="$1" file="$2" ext="${2##*.}"
    if [[ -s "$file" ]]; then
        return
    fi
    local part="$DATA/partial-$$.$ext"
    say "making $(basename "$file") (prolo synth --courses $n --seed 1)"
    "$PROLO" synth --courses "$n" --seed 1 --out "$part" >/dev/null || {
        rm -f "$part"
        die "prolo synth failed for $file"
    }
    mv "$part" "$file"
}

for n in "${SIZE_LIST[@]}"; do
    make_data "$n" "$DATA/courses_$n.csv"
    make_data "$n" "$DATA/courses_$n.parquet"
done
# Many conditions (a registry coding conditions finely): the first size's courses spread
# over CONDITIONS conditions by the many-conditions test fixture's remap.py.
MANY_N="${SIZE_LIST[0]}"
MANY="$DATA/courses_${MANY_N}_c$CONDITIONS.csv"
if [[ $CONDITIONS -gt 0 && ! -s "$MANY" ]]; then
    say "making $(basename "$MANY") (courses_$MANY_N.csv spread over $CONDITIONS conditions)"
    python3 "$ROOT/tests/fixtures/many_conditions/remap.py" "$DATA/courses_$MANY_N.csv" "$DATA/partial-$$.csv" "$CONDITIONS" ||
        die "could not spread courses_$MANY_N.csv over $CONDITIONS conditions"
    mv "$DATA/partial-$$.csv" "$MANY"
fi

# --- 4. peers --------------------------------------------------------------------------
PY="$VENV/bin/python"
HAVE_PANDAS=0 HAVE_DUCKDB=0 HAVE_POLARS=0
REQ="$PEERS/requirements.txt"
req_hash="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$PY" ]]; then
    say "creating $VENV (python3 -m venv)"
    python3 -m venv "$VENV" >"$WORK/logs/venv.log" 2>&1 || {
        rm -rf "$VENV"
        note "could not create the virtual environment (python3 -m venv; on Debian: apt-get install python3-venv): every peer skipped"
    }
fi
if [[ -x "$PY" ]]; then
    if [[ "$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)" != "$req_hash" ]]; then
        say "installing the peers from PyPI into $VENV (pinned in peers/requirements.txt)"
        pip=("$PY" -m pip install --disable-pip-version-check -q)
        if "${pip[@]}" -r "$REQ" >"$LOGS/pip.log" 2>&1; then
            echo "$req_hash" >"$VENV/.requirements.sha256"
        else
            say "pip install -r failed (see $LOGS/pip.log): trying the packages one by one"
            while read -r req; do
                req="${req%%#*}"
                [[ -n "${req// /}" ]] || continue
                "${pip[@]}" -c "$REQ" "$req" >>"$LOGS/pip.log" 2>&1 || say "could not install $req"
            done <"$REQ"
        fi
    fi
    "$PY" -c 'import pandas, scipy, lifelines' 2>/dev/null && HAVE_PANDAS=1 ||
        note "pandas + SciPy + lifelines peer skipped: its packages did not install (see $LOGS/pip.log)"
    "$PY" -c 'import duckdb' 2>/dev/null && HAVE_DUCKDB=1 ||
        note "DuckDB peer skipped: duckdb did not install (see $LOGS/pip.log)"
    "$PY" -c 'import polars' 2>/dev/null && HAVE_POLARS=1 ||
        note "polars peer skipped: polars did not install (see $LOGS/pip.log)"
fi

# The typed Parquet copy (numbers as numbers, as pandas or polars write it) needs polars.
make_typed() { # make_typed CSV FILE
    [[ -s "$2" ]] && return
    local part="$DATA/partial-$$.typed.parquet"
    say "making $(basename "$2") (polars: read_csv, write_parquet)"
    "$PY" "$PEERS/typed_parquet.py" "$1" "$part" >"$LOGS/typed-parquet.log" 2>&1 || {
        rm -f "$part"
        note "could not write the typed Parquet copy of $(basename "$1") (see $LOGS/typed-parquet.log)"
        return
    }
    mv "$part" "$2"
}
for n in "${SIZE_LIST[@]}"; do
    [[ $HAVE_POLARS == 1 ]] && make_typed "$DATA/courses_$n.csv" "$DATA/courses_$n.typed.parquet"
    rows=$(($(wc -l <"$DATA/courses_$n.csv") - 1))
    typed="-"
    [[ -s "$DATA/courses_$n.typed.parquet" ]] && typed="$(stat -c %s "$DATA/courses_$n.typed.parquet")"
    printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$rows" "$(stat -c %s "$DATA/courses_$n.csv")" \
        "$(stat -c %s "$DATA/courses_$n.parquet")" "$typed" >>"$WORK/datasets.tsv"
done

# --- 5. machine and versions -----------------------------------------------------------
{
    cmdline="benches/run.sh"
    [[ ${#ARGS[@]} -eq 0 ]] || cmdline="$cmdline$(printf ' %q' "${ARGS[@]}")"
    printf 'command\t%s\n' "$cmdline"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'runs\t%s\n' "$RUNS"
    printf 'conditions\t%s\n' "$CONDITIONS"
    printf 'cpu\t%s\n' "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
    printf 'nproc\t%s\n' "$(nproc)"
    printf 'memory\t%s\n' "$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    printf 'system\t%s\n' "$( (. /etc/os-release 2>/dev/null && printf '%s, ' "$PRETTY_NAME") || true)Linux $(uname -r)"
    commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    [[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] || commit="$commit + uncommitted changes"
    printf 'version prolo\t%s (%s; source %s)\n' "$("$PROLO" --version)" "$PROLO" "$commit"
    if [[ -x "$PY" ]]; then
        printf 'version Python\t%s\n' "$("$PY" -c 'import platform; print(platform.python_version())')"
        for pkg in pandas numpy scipy lifelines duckdb polars; do
            v="$("$PY" -c "from importlib.metadata import version; print(version('$pkg'))" 2>/dev/null || echo 'not installed')"
            printf 'version %s\t%s\n' "$pkg" "$v"
        done
    fi
} >"$WORK/machine.tsv"

# --- 6. timing -------------------------------------------------------------------------
# measure TOOL SIZE OK_EXIT_CODES -- COMMAND...: runs COMMAND --runs times, records wall and peak RSS.
measure() {
    local tool="$1" size="$2" ok="$3"
    shift 4
    local log="$LOGS/$tool-$size.log" timing="$LOGS/$tool-$size.time"
    local walls="" rss="" r rc wall kb
    for ((r = 1; r <= RUNS; r++)); do
        rc=0
        /usr/bin/time -f "%e %M" -o "$timing" "$@" >"$log" 2>&1 || rc=$?
        if [[ $rc == 124 && "$1" == timeout ]]; then
            note "$tool on $size courses: stopped after $2 s (timeout), not finished"
            printf '%s\t%s\tover %s s\t\t\n' "$tool" "$size" "$2" >>"$WORK/times.tsv"
            return 1
        fi
        if [[ " $ok " != *" $rc "* ]]; then
            note "$tool on $size courses failed (exit $rc); last lines of $log:"
            tail -n 5 "$log" | sed 's/^/    /' >&2
            printf '%s\t%s\tfailed (exit %s)\t\t\n' "$tool" "$size" "$rc" >>"$WORK/times.tsv"
            return 1
        fi
        read -r wall kb < <(tail -n 1 "$timing")
        say "$(printf '%-22s %10s courses  run %d/%d  %8.2f s  %7d MiB' "$tool" "$size" "$r" "$RUNS" "$wall" $((kb / 1024)))"
        walls="$walls${walls:+,}$wall"
        rss="$rss${rss:+,}$kb"
    done
    printf '%s\t%s\tok\t%s\t%s\n' "$tool" "$size" "$walls" "$rss" >>"$WORK/times.tsv"
}

agree() { # agree SIZE PEER LOG SUMMARY, or agree SIZE NAME --same SUMMARY OTHER_SUMMARY
    local verdict
    if [[ "$3" == --same ]]; then
        verdict="$(python3 "$PEERS/agree.py" --same "$4" "$5" 2>&1)" || true
    else
        verdict="$(python3 "$PEERS/agree.py" "$4" "$3" 2>&1)" || true
    fi
    say "$2 vs prolo on $1 courses: $verdict"
    printf '%s\t%s\t%s\n' "$1" "$2" "$verdict" >>"$WORK/agreement.tsv"
}

for n in "${SIZE_LIST[@]}"; do
    csv="$DATA/courses_$n.csv"
    parquet="$DATA/courses_$n.parquet"
    out_csv="$DATA/out-$n-csv"
    out_parquet="$DATA/out-$n-parquet"
    typed="$DATA/courses_$n.typed.parquet"
    out_typed="$DATA/out-$n-typed-parquet"
    cat "$csv" "$parquet" >/dev/null # same warm page cache for every tool
    [[ -s "$typed" ]] && cat "$typed" >/dev/null
    say "== $n courses: $(basename "$csv") ($(du -h "$csv" | cut -f1)), $RUNS run(s) each"

    # validate exits 3 when the data have errors; synthetic data have none, but that is not a failure.
    measure prolo-validate "$n" "0 3" -- "$PROLO" validate "$csv" || true
    measure prolo-analyze-csv "$n" "0" -- "$PROLO" analyze "$csv" --out "$out_csv" || true
    measure prolo-analyze-parquet "$n" "0" -- "$PROLO" analyze "$parquet" --out "$out_parquet" || true
    if [[ -s "$typed" ]]; then
        measure prolo-analyze-typed-parquet "$n" "0" -- "$PROLO" analyze "$typed" --out "$out_typed" || true
    fi
    if [[ $HAVE_POLARS == 1 ]]; then
        measure polars-read "$n" "0" -- "$PY" "$PEERS/polars_read.py" "$csv" || true
        measure polars-read-parquet "$n" "0" -- "$PY" "$PEERS/polars_read.py" "$parquet" || true
        if [[ -s "$typed" ]]; then
            measure polars-read-typed-parquet "$n" "0" -- "$PY" "$PEERS/polars_read.py" "$typed" || true
        fi
    fi
    if [[ $HAVE_DUCKDB == 1 ]]; then
        measure duckdb-change "$n" "0" -- "$PY" "$PEERS/duckdb_change.py" "$csv" || true
    fi
    if [[ $HAVE_PANDAS == 1 ]]; then
        measure pandas-pipeline "$n" "0" -- "$PY" "$PEERS/pandas_pipeline.py" "$csv" || true
    fi

    if [[ -s "$out_csv/summary.json" ]]; then
        [[ $HAVE_DUCKDB == 1 && -s "$LOGS/duckdb-change-$n.log" ]] &&
            agree "$n" "DuckDB" "$LOGS/duckdb-change-$n.log" "$out_csv/summary.json"
        [[ $HAVE_PANDAS == 1 && -s "$LOGS/pandas-pipeline-$n.log" ]] &&
            agree "$n" "pandas" "$LOGS/pandas-pipeline-$n.log" "$out_csv/summary.json"
        [[ -s "$out_parquet/summary.json" ]] &&
            agree "$n" "prolo on the Parquet copy" "--same" "$out_csv/summary.json" "$out_parquet/summary.json"
        [[ -s "$out_typed/summary.json" ]] &&
            agree "$n" "prolo on the typed Parquet copy" "--same" "$out_csv/summary.json" "$out_typed/summary.json"
        true
    fi
done

if [[ $CONDITIONS -gt 0 ]]; then
    out_many="$DATA/out-$MANY_N-c$CONDITIONS"
    cat "$MANY" >/dev/null
    say "== $MANY_N courses over $CONDITIONS conditions: $(basename "$MANY"), $RUNS run(s) each"
    measure prolo-analyze-many "$MANY_N" "0" -- "$PROLO" analyze "$MANY" --out "$out_many" || true
    if [[ $HAVE_DUCKDB == 1 ]]; then
        measure duckdb-change-many "$MANY_N" "0" -- "$PY" "$PEERS/duckdb_change.py" "$MANY" || true
    fi
    if [[ $HAVE_PANDAS == 1 ]]; then
        # lifelines' log-rank across thousands of groups runs for tens of minutes: one run,
        # stopped after 5 minutes.
        RUNS=1 measure pandas-pipeline-many "$MANY_N" "0" -- timeout 300 "$PY" "$PEERS/pandas_pipeline.py" "$MANY" || true
    fi
    if [[ -s "$out_many/summary.json" ]]; then
        [[ $HAVE_DUCKDB == 1 && -s "$LOGS/duckdb-change-many-$MANY_N.log" ]] &&
            agree "$MANY_N ($CONDITIONS conditions)" "DuckDB" "$LOGS/duckdb-change-many-$MANY_N.log" "$out_many/summary.json"
        [[ $HAVE_PANDAS == 1 && -s "$LOGS/pandas-pipeline-many-$MANY_N.log" ]] &&
            agree "$MANY_N ($CONDITIONS conditions)" "pandas" "$LOGS/pandas-pipeline-many-$MANY_N.log" "$out_many/summary.json"
        true
    fi
fi

# --- 7. table, ratios, results.md ------------------------------------------------------
python3 "$BENCH/report.py" "$WORK" "$BENCH/results.md"
say "logs and raw timings: $WORK"
