#!/usr/bin/env python3
"""License inventory benchmark (issue 11).

For each real lockfile in ../shared/workloads (lockfile-only mode):
  * baseline: `gzip -dc` of the same .crate files, single-threaded, in this run;
  * cold: `licenses` with every crate file and the classification cache warm but the license
    cache empty (every crate file is verified, decompressed, its texts read and identified);
  * warm: `licenses` with everything cached (median wall time, highest peak RSS).
Prints cold / gzip (target <= 1.0) and the warm figures (target <= 0.3 s).

Crate files are downloaded once into the benchmark cache (needs crates.io the first time).
CARGO_HOME points at an empty folder so every crate comes from our own cache.

Usage: bench/licenses.py [--workloads DIR] [--cache DIR] [--runs N] [--binary PATH] [--markdown]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from classify import ROOT, WORKLOADS, crate_files, gzip_dc, timed, timed_rss  # noqa: E402

LICENSE_CACHE = "licenses-v1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default=os.path.join(ROOT, "..", "shared", "workloads"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "audit-trust-bench-cache"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust"))
    ap.add_argument("--markdown", action="store_true")
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
        base = [args.binary, "licenses", "--lockfile", lockfile, "--cache-dir", args.cache, "--format", "json"]
        # Prime: crate files downloaded, classification cached.
        subprocess.run(base, env=env, check=True, stdout=subprocess.DEVNULL)
        files = crate_files(lockfile, args.cache)
        missing = [f for f in files if not os.path.isfile(f)]
        if missing:
            sys.exit(f"{len(missing)} crate files missing after priming, e.g. {missing[0]}")
        mb = sum(os.path.getsize(f) for f in files) / 1e6

        gzip_times, cold_times, warm = [], [], []
        for _ in range(args.runs):
            gzip_times.append(gzip_dc(files))
            shutil.rmtree(os.path.join(args.cache, LICENSE_CACHE), ignore_errors=True)
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


if __name__ == "__main__":
    sys.exit(main())
