#!/usr/bin/env python3
"""Classification benchmark (issue: workspace foundation).

For each real lockfile in ../shared/workloads (lockfile-only mode):
  * baseline: `gzip -dc` of the same .crate files, single-threaded, in this run;
  * cold: `stats` with every crate file cached but the classification cache empty;
  * warm: `stats` with everything cached (wall time and peak RSS).
Prints the ratio cold / gzip (target <= 1.0) and the warm figures (target <= 0.3 s, <= 100 MB).

Crate files are downloaded once into the benchmark cache (needs crates.io the first time).
CARGO_HOME points at an empty folder so every crate comes from our own cache, not ~/.cargo.

Usage: bench/classify.py [--workloads DIR] [--cache DIR] [--runs N] [--binary PATH] [--markdown]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["ripgrep", "cargo-vet", "crates-io"]


def crate_files(lockfile, cache):
    with open(lockfile, "rb") as f:
        lock = tomllib.load(f)
    files = []
    for p in lock.get("package", []):
        src, sum_ = p.get("source", ""), p.get("checksum")
        if src.startswith(("registry+", "sparse+")) and sum_:
            files.append(os.path.join(cache, "crates", f"{p['name']}-{p['version']}-{sum_[:16]}.crate"))
    return files


def timed(cmd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def timed_rss(cmd, env):
    """Wall seconds and peak RSS in MB of one run (RSS as /usr/bin/time reports it)."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, env=env, check=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    kb = out.stderr.strip().splitlines()[-1]
    return wall, int(kb) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default=os.path.join(ROOT, "..", "shared", "workloads"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "audit-trust-bench-cache"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust"))
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/performance.md")
    args = ap.parse_args()

    if not os.path.isdir(args.workloads):
        print(f"skipped: no workloads folder at {args.workloads} (it lives in the project's shared/ folder)")
        return 0
    if args.binary == os.path.join(ROOT, "target", "release", "cargo-audit-trust"):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "cargo-audit-trust"], cwd=ROOT, check=True)

    empty_home = tempfile.mkdtemp(prefix="bench-cargo-home-")
    env = dict(os.environ, CARGO_HOME=empty_home, CI="1")
    rows = []
    for name in WORKLOADS:
        lockfile = os.path.join(args.workloads, name, "Cargo.lock")
        if not os.path.isfile(lockfile):
            print(f"skipped {name}: no {lockfile}")
            continue
        base = [args.binary, "stats", "--lockfile", lockfile, "--cache-dir", args.cache, "--format", "json"]
        # Download once; an empty classification cache makes every crate file needed.
        shutil.rmtree(os.path.join(args.cache, "classify-v1"), ignore_errors=True)
        subprocess.run(base, env=env, check=True, stdout=subprocess.DEVNULL)
        files = crate_files(lockfile, args.cache)
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            sys.exit(f"{len(missing)} crate files missing after priming, e.g. {missing[0]}")
        mb = sum(os.path.getsize(f) for f in files) / 1e6

        gzip_times, cold_times, warm = [], [], []
        for _ in range(args.runs):
            gzip_times.append(gzip_dc(files))
            shutil.rmtree(os.path.join(args.cache, "classify-v1"), ignore_errors=True)
            cold_times.append(timed(base + ["--offline"], env=env))
        for _ in range(max(args.runs, 5)):
            warm.append(timed_rss(base + ["--offline"], env))
        g, c = statistics.median(gzip_times), statistics.median(cold_times)
        w = statistics.median(t for t, _ in warm)
        rss = max(r for _, r in warm)
        rows.append((name, len(files), mb, g, c, c / g, w, rss))

    shutil.rmtree(empty_home, ignore_errors=True)
    header = ("workload", "crates", "tarballs MB", "gzip -dc s", "cold s", "cold/gzip", "warm s", "warm peak MB")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + " --- |" * len(header))
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f}x | {r[6]:.3f} | {r[7]:.1f} |")
    else:
        print("{:<10} {:>6} {:>11} {:>10} {:>7} {:>9} {:>7} {:>12}".format(*header))
        for r in rows:
            print(f"{r[0]:<10} {r[1]:>6} {r[2]:>11.1f} {r[3]:>10.2f} {r[4]:>7.2f} {r[5]:>8.2f}x {r[6]:>7.3f} {r[7]:>12.1f}")
    return 0


def gzip_dc(files):
    """Single-threaded decompression of every file, output discarded."""
    start = time.perf_counter()
    for i in range(0, len(files), 200):
        subprocess.run(["gzip", "-dc", "--"] + files[i:i + 200], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
