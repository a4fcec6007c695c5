#!/usr/bin/env python3
"""The CI gate against cargo-audit (issue: the CI gate).

1. Cross-check: on the cargo-vet workload with the shared RustSec snapshot, the vulnerabilities
   `check` reports must be exactly those `cargo audit --no-fetch --stale` reports (and the
   informational ones too). Exits 1 on any difference.
2. Benchmark: warm `check` on the crates-io workload (index entries cached, local advisory
   database) against `cargo audit --no-fetch` on the same lockfile and database, in the same run:
   median wall time ratio (target <= 1.0) and peak RSS (target <= 100 MB).

Needs the shared `workloads/` and `advisory-db/` folders and `cargo-audit` (cargo install
cargo-audit; or pass --cargo-audit PATH). The first run fills the index cache from crates.io.

Usage: bench/check.py [--shared DIR] [--cache DIR] [--runs N] [--cargo-audit PATH] [--markdown]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_timed(cmd):
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss_mb = int(out.stderr.strip().splitlines()[-1]) / 1024
    return wall, rss_mb, out


def ours_cmd(binary, lockfile, db, cache):
    return [binary, "check", "--lockfile", lockfile, "--advisory-db", db, "--cache-dir", cache,
            "--format", "json", "--allow-stale", "-q"]


def theirs_cmd(cargo_audit, lockfile, db):
    return [cargo_audit, "audit", "--no-fetch", "--stale", "--db", db, "-f", lockfile, "--json"]


def cross_check(binary, cargo_audit, lockfile, db, cache):
    ours = json.loads(subprocess.run(ours_cmd(binary, lockfile, db, cache), capture_output=True,
                                     text=True).stdout)
    theirs = json.loads(subprocess.run(theirs_cmd(cargo_audit, lockfile, db), capture_output=True,
                                       text=True).stdout)
    vulns, info = set(), set()
    for p in ours["packages"]:
        for r in p["reasons"]:
            details = r.get("details") or {}
            key = (p["name"], p["version"], details.get("id") if isinstance(details, dict) else None)
            if r["code"] == "advisory":
                vulns.add(key)
            elif r["code"] == "advisory-informational":
                info.add(key)
    their_vulns = {(v["package"]["name"], v["package"]["version"], v["advisory"]["id"])
                   for v in theirs["vulnerabilities"]["list"]}
    their_info = {(w["package"]["name"], w["package"]["version"], w["advisory"]["id"])
                  for kind, ws in theirs.get("warnings", {}).items() if kind != "yanked"
                  for w in ws if w.get("advisory")}
    print(f"vulnerabilities: check {len(vulns)}, cargo audit {len(their_vulns)}, "
          f"same: {vulns == their_vulns}")
    print(f"informational:   check {len(info)}, cargo audit {len(their_info)}, "
          f"same: {info == their_info}")
    for label, diff in (("only check", vulns - their_vulns), ("only cargo audit", their_vulns - vulns)):
        for d in sorted(diff):
            print(f"  {label}: {d}")
    return vulns == their_vulns and info == their_info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "audit-trust-bench-cache"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cargo-audit", default=shutil.which("cargo-audit") or "")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust"))
    args = ap.parse_args()
    db = os.path.join(args.shared, "advisory-db")
    workloads = os.path.join(args.shared, "workloads")
    if not os.path.isdir(db) or not os.path.isdir(workloads):
        print(f"skipped: no advisory-db/ or workloads/ in {args.shared}")
        return 0
    if not args.cargo_audit:
        print("skipped: cargo-audit not found (cargo install cargo-audit, or --cargo-audit PATH)")
        return 0
    if args.binary == os.path.join(ROOT, "target", "release", "cargo-audit-trust"):
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "cargo-audit-trust"], cwd=ROOT, check=True)

    same = cross_check(args.binary, args.cargo_audit,
                       os.path.join(workloads, "cargo-vet", "Cargo.lock"), db, args.cache)

    lockfile = os.path.join(workloads, "crates-io", "Cargo.lock")
    subprocess.run(ours_cmd(args.binary, lockfile, db, args.cache), capture_output=True)  # warm
    ours, theirs = [], []
    for _ in range(args.runs):
        ours.append(run_timed(ours_cmd(args.binary, lockfile, db, args.cache))[:2])
        theirs.append(run_timed(theirs_cmd(args.cargo_audit, lockfile, db))[:2])
    o = statistics.median(t for t, _ in ours)
    t = statistics.median(t for t, _ in theirs)
    print(f"crates-io (880 packages): check {o:.3f} s, cargo audit {t:.3f} s, ratio {o / t:.2f}x; "
          f"peak RSS check {max(r for _, r in ours):.1f} MB, cargo audit {max(r for _, r in theirs):.1f} MB")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
