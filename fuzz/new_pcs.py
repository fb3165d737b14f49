#!/usr/bin/env python3
"""Which code did a fuzzer reach after its corpus was loaded? Tells new coverage that an
input caused from coverage that thread timing caused.

Usage: new_pcs.py LOG BINARY [--all]

LOG is libFuzzer's output of a run started with `-print_pcs=1` under `setarch -R` (no
address randomisation, so a position-independent binary loads at 0x555555554000); BINARY
is the fuzz target it ran. Every `NEW_PC` line after `INITED` (the corpus loaded) is
symbolised with llvm-symbolizer and printed with the execution count (`#N`) it was found
at and its kind:

- `sched`: any frame in rayon, crossbeam or std's threads and locks. Which of their
  branches run depends on how the threads met (work stealing, sleeping, waking), not on
  the input, so they keep appearing at random however long the fuzzer runs;
- `hash`: a hash table's probing (hashbrown). Which probe branches run depends on where
  keys fall, and for tables with std's random hasher on the process's seed;
- `INPUT`: everything else: prolo's code and the parsers' (polars, csv, flate2, ...).

Each PC is also given its owner: the innermost frame outside Rust's standard library
(`prolo` for src/, else the crate's name), marked `(std)` when the PC itself is in a
standard-library function inlined there (a Unicode table lookup, a copy, a sort). Only
`INPUT` and `hash` lines are printed, unless `--all`; the count of each kind, and of
`INPUT` PCs by owner, goes to stderr. The fuzz campaign is judged on `INPUT` PCs (fuzz/README.md, "When to stop").
"""

import re
import subprocess
import sys

BASE = 0x555555554000
SCHED = re.compile(
    r"rayon|crossbeam|std::sync|std::thread|std::sys::sync|std/src/sync|std/src/thread|futex|parking_lot|lock_api"
)


def owner(frames):
    for _, loc in frames:
        if "/rustc/" in loc:
            continue
        if "/src/" in loc and "/registry/" not in loc and "/.cargo/" not in loc:
            return "prolo"
        m = re.search(r"/registry/src/[^/]+/([^/]+?)-\d+\.\d+\.\d+[^/]*/", loc)
        return m.group(1) if m else loc.split("/")[-1]
    # Only the standard library's files (drop glue, generic helpers): the type they work on.
    names = " ".join(f for f, _ in frames)
    m = re.search(r"\b(prolo|polars_[a-z_]+)::", names)
    return m.group(1).replace("_", "-") if m else "std"


def main():
    args = [a for a in sys.argv[1:] if a != "--all"]
    if len(args) != 2:
        sys.exit("usage: new_pcs.py LOG BINARY [--all]")
    log, binary = args
    text = open(log, "rb").read().decode("utf-8", "replace").replace("\r", "\n")
    loaded, at, found = False, 0, []
    for line in text.split("\n"):
        if "INITED" in line:
            loaded = True
        m = re.match(r"#(\d+)", line)
        if m:
            at = int(m.group(1))
        if loaded and line.strip().startswith("NEW_PC:"):
            found.append((at, int(line.split()[1], 16) - BASE))
    counts = {"sched": 0, "hash": 0, "INPUT": 0}
    owners = {}
    if found:
        out = subprocess.run(
            ["llvm-symbolizer", "--obj", binary, "--functions=linkage", "--demangle"],
            input="\n".join(hex(pc) for _, pc in found),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        blocks = [b.split("\n") for b in out.strip().split("\n\n")]
        for (at, pc), block in zip(found, blocks):
            frames = [(block[i], block[i + 1]) for i in range(0, len(block) - 1, 2)]
            where = " ".join(f"{f} {loc}" for f, loc in frames)
            kind = "sched" if SCHED.search(where) else "hash" if re.search(r"hashbrown|bitmask\.rs", where) else "INPUT"
            counts[kind] += 1
            who = owner(frames) + (" (std)" if "/rustc/" in frames[0][1] else "")
            if kind == "INPUT":
                owners[who] = owners.get(who, 0) + 1
            if kind != "sched" or "--all" in sys.argv:
                inner_fn, inner_loc = frames[0]
                caller = next((f for f, _ in frames if "prolo" in f), frames[-1][0])
                print(f"#{at}\t{kind}\t{who}\t{pc:#x}\t{inner_loc.split('/')[-1]}\t{inner_fn[:80]}\t{caller[:100]}")
    print(" ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    print("INPUT by owner: " + ", ".join(f"{k} {v}" for k, v in sorted(owners.items(), key=lambda kv: -kv[1])), file=sys.stderr)


if __name__ == "__main__":
    main()
