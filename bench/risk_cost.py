#!/usr/bin/env python3
"""Cost of the risk signals against reading the same changes by hand (issue 17, "Cost").

A whole lockfile moved one version forward: every registry package of a workload lockfile
against its base (the previous non-yanked version in the crates.io index, as `check` chooses
it). Two ways to look at every change, warm (crate files, index entries and risk facts cached
by a first run):

  * ours: one `check --signals all` of the lockfile (signals for every package);
  * baseline: `diff NAME BASE VERSION --no-pager` once per changed package, summed (what a
    reviewer runs to see each change).

Only packages with at least one signal name their base in the report, so only those are diffed;
`check` still assesses every package. The baseline is therefore smaller than the whole update's
and the printed ratio an upper bound. Prints ours / baseline (target <= 1.0). Needs the network the first time (index entries and
two crate files per package from crates.io); CARGO_HOME points at an empty folder so every
crate comes from our own cache.

Usage: bench/risk_cost.py [--shared DIR] [--workloads ripgrep,cargo-vet] [--cache DIR]
                          [--binary PATH] [--runs N] [--markdown]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env, ok=(0, 1)):
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if out.returncode not in ok:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return out.stdout, wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--workloads", default="ripgrep,cargo-vet")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                    "audit-trust-bench-risk-cost"))
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release",
        "cargo-audit-trust"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    db = os.path.join(args.shared, "advisory-db")
    if not os.path.isdir(os.path.join(args.shared, "workloads")) or not os.path.isdir(db):
        print(f"skipped: no workloads/ or advisory-db/ in {args.shared} (pass --shared DIR)")
        return 0
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: cargo build --release -p cargo-audit-trust")
    home = tempfile.mkdtemp(prefix="audit-trust-bench-home-")
    env = dict(os.environ, CARGO_HOME=home)
    rows = []
    for name in args.workloads.split(","):
        folder = tempfile.mkdtemp(prefix=f"risk-cost-{name}-")
        lock = os.path.join(folder, "Cargo.lock")
        with open(os.path.join(args.shared, "workloads", name, "Cargo.lock")) as src, \
                open(lock, "w") as dst:
            dst.write(src.read())
        open(os.path.join(folder, "Cargo.audit"), "w").close()
        base = [args.binary, "--cache-dir", args.cache, "--lockfile", lock, "-q"]
        check = [*base, "--format", "json", "check", "--signals", "all", "--advisory-db", db,
                 "--allow-stale"]
        out, _ = run(check, env)  # fills every cache
        pairs = set()
        for v in json.loads(out)["packages"]:
            for r in v["reasons"]:
                b = r.get("details", {}).get("base") if isinstance(r.get("details"), dict) else None
                if r["code"] == "risk" and b:
                    pairs.add((v["name"], b, v["version"]))
        pairs = sorted(pairs)
        if not pairs:
            print(f"{name}: no package reported a base", file=sys.stderr)
            continue
        diff = lambda p: [*base, "diff", p[0], p[1], p[2], "--no-pager", "--stat"]  # noqa: E731
        for p in pairs:  # warm the diff's own caches (unpacked trees) too
            run(diff(p), env, ok=(0, 1, 2))
        ours, theirs = [], []
        for _ in range(args.runs):
            ours.append(run(check, env)[1])
            theirs.append(sum(run(diff(p), env, ok=(0, 1, 2))[1] for p in pairs))
        rows.append((name, len(pairs), statistics.median(ours), statistics.median(theirs)))
    if args.markdown:
        print("| workload | changed packages | warm `check --signals all` s | summed `diff OLD NEW` s "
              "| ratio |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, n, o, t in rows:
            print(f"| {name} | {n} | {o:.2f} | {t:.2f} | {o / t:.2f}× |")
        print(f"\nMedians of {args.runs} rounds.")
    else:
        for name, n, o, t in rows:
            print(f"{name}: {n} changed packages; check {o:.2f} s; diffs {t:.2f} s; "
                  f"ratio {o / t:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
