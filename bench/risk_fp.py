#!/usr/bin/env python3
"""False-positive rate of the default `[risk]` policy on real consecutive releases (issue 17).

Every registry package of the shared workload lockfiles (ripgrep, cargo-vet, crates.io) is one
version pair: the locked version against its base, the previous version in the crates.io index
(the newest earlier one that is not yanked), exactly as `check` chooses it. `check` runs in
lockfile mode with an empty `Cargo.audit` and `--signals all` (no sign-offs, every package
unaudited; `--signals all` still computes every package's signals);
a pair is *denied* when any `risk` reason of the package has severity deny. Pairs are counted
once per name@version across workloads; packages that are their crate's first version (no base)
are left out, as are packages whose signals could not be computed (reported separately).

Also the cost: warm `check` with the default policy against warm `check` with every signal
allowed (which computes nothing), on the same cache.

Needs the network the first time (index entries and two crate files per package from
crates.io, into --cache). Usage:
  bench/risk_fp.py [--shared DIR] [--cache DIR] [--binary PATH] [--now TIME] [--runs N]
"""

import argparse
import collections
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = ["ripgrep", "cargo-vet", "crates-io"]
CRATES_IO_INDEX = "sparse+https://index.crates.io/"


def check(binary, folder, db, cache, now, audit_text):
    with open(os.path.join(folder, "Cargo.audit"), "w") as f:
        f.write(audit_text)
    cmd = [binary, "--now", now, "--cache-dir", cache, "--lockfile",
           os.path.join(folder, "Cargo.lock"), "--format", "json", "-q", "check",
           "--signals", "all", "--advisory-db", db, "--allow-stale"]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode not in (0, 1):
        sys.exit(f"check failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout), wall


def index_versions(cache, name):
    """Versions of `name` from the tool's compact index cache (written by the check run)."""
    digest = hashlib.sha256(CRATES_IO_INDEX.encode()).hexdigest()[:16]
    path = os.path.join(cache, "index-entries-v3", digest, name.lower())
    try:
        with open(path) as f:
            return [line.split(" ") for line in f.read().splitlines() if line]
    except FileNotFoundError:
        return None


def semver_key(text):
    core, _, pre = text.partition("+")[0].partition("-")
    parts = [int(p) for p in core.split(".")]
    return (parts, pre == "", pre)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="/work/shared")
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/audit-trust-bench-risk"))
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust"))
    ap.add_argument("--now", default="2026-12-03T12:00:00Z")
    ap.add_argument("--runs", type=int, default=3, help="timed warm runs per policy (0: none)")
    args = ap.parse_args()
    db = os.path.join(args.shared, "advisory-db")
    tmp = tempfile.mkdtemp(prefix="risk-fp-")
    pairs = {}
    denied_by = collections.Counter()
    warned_by = collections.Counter()
    not_computed = set()
    first_versions = 0
    timings = []
    for name in WORKLOADS:
        folder = os.path.join(tmp, name)
        os.makedirs(folder)
        shutil.copy(os.path.join(args.shared, "workloads", name, "Cargo.lock"), folder)
        report, cold = check(args.binary, folder, db, args.cache, args.now, "")
        if args.runs > 0:
            warm = [check(args.binary, folder, db, args.cache, args.now, "")[1]
                    for _ in range(args.runs)]
            allow_all = "[risk.signals]\n" + "".join(f'{c} = "allow"\n' for c in SIGNALS)
            off = [check(args.binary, folder, db, args.cache, args.now, allow_all)[1]
                   for _ in range(args.runs)]
            timings.append((name, cold, statistics.median(warm), statistics.median(off)))
        for p in report["packages"]:
            if p["source"] != "crates.io":
                continue
            spec = f'{p["name"]}@{p["version"]}'
            if spec in pairs:
                continue
            versions = index_versions(args.cache, p["name"])
            if versions is None:
                not_computed.add(spec)
                continue
            earlier = [v for v in versions if semver_key(v[0]) < semver_key(p["version"])]
            if not earlier:
                first_versions += 1
                continue
            risk = [r for r in p["reasons"] if r["code"] == "risk"]
            if any("not-computed" in (r.get("details") or {}) for r in risk
                   if r["severity"] != "info"):
                not_computed.add(spec)
            denied = sorted({r["details"]["signal"] for r in risk
                             if r["severity"] == "deny" and "signal" in r["details"]})
            warned = sorted({r["details"]["signal"] for r in risk
                             if r["severity"] == "warn" and "signal" in r["details"]})
            pairs[spec] = (denied, warned, risk)
            for s in denied:
                denied_by[s] += 1
            for s in warned:
                warned_by[s] += 1
    total = len(pairs)
    denied = {k: v for k, v in pairs.items() if v[0]}
    print(f"version pairs: {total} (first versions left out: {first_versions}; "
          f"with signals not computed: {len(not_computed)})")
    print(f"denied by the default policy: {len(denied)} = {100.0 * len(denied) / max(total, 1):.1f}%")
    print("denied, by signal:", dict(denied_by.most_common()))
    print("warned, by signal:", dict(warned_by.most_common()))
    for spec, (d, _, risk) in sorted(denied.items()):
        msgs = [r["message"] for r in risk if r["severity"] == "deny"]
        print(f"  {spec}: {', '.join(d)}")
        for m in msgs:
            print(f"      {m[:220]}")
    print("\nworkload | first check (s) | warm check (s) | warm, signals off (s)")
    for name, cold, warm, off in timings:
        print(f"{name} | {cold:.2f} | {warm:.2f} | {off:.2f}")
    if not_computed:
        print("\nnot computed:", ", ".join(sorted(not_computed)[:40]))
    shutil.rmtree(tmp)


SIGNALS = [
    "new-dependency", "typosquat", "young-crate", "few-versions", "no-repository",
    "build-script-added", "build-script-changed", "proc-macro-added", "native-added",
    "build-script-spawns", "build-script-network", "build-script-env", "opaque-file",
    "unsafe-increase", "recently-published", "yanked-predecessors", "repository-changed",
]

if __name__ == "__main__":
    main()
