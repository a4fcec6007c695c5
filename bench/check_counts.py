#!/usr/bin/env python3
"""Independent check of `stats` on the real workloads: recomputes from the lockfile alone, with
Python's own TOML parser, the counts that need no crate contents (packages by source, distinct
names, leaf, duplicate names) and compares them with `cargo audit-trust stats --format json`.

Usage: bench/check_counts.py [--workloads DIR] [--cache DIR] [--binary PATH]
Exits 1 on any disagreement.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def expected(lockfile):
    with open(lockfile, "rb") as f:
        packages = tomllib.load(f).get("package", [])
    per_name = collections.Counter(p["name"] for p in packages)
    registry = [p for p in packages if p.get("source", "").startswith(("registry+", "sparse+"))]
    git = [p for p in packages if p.get("source", "").startswith("git+")]
    return {
        "packages": len(packages),
        "registry_packages": len(registry),
        "git_packages": len(git),
        "workspace_packages": len(packages) - len(registry) - len(git),
        "names": len(per_name),
        "leaf": sum(1 for p in registry if not p.get("dependencies")),
        "duplicate_names": sum(1 for n in per_name.values() if n > 1),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default=os.path.join(ROOT, "..", "shared", "workloads"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "audit-trust-bench-cache"))
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "cargo-audit-trust"))
    args = ap.parse_args()
    if not os.path.isdir(args.workloads):
        print(f"skipped: no workloads folder at {args.workloads}")
        return 0
    failures = 0
    for name in sorted(os.listdir(args.workloads)):
        lockfile = os.path.join(args.workloads, name, "Cargo.lock")
        if not os.path.isfile(lockfile):
            continue
        out = subprocess.run([args.binary, "stats", "--format", "json", "--lockfile", lockfile,
                              "--cache-dir", args.cache], check=True, capture_output=True, text=True)
        got = json.loads(out.stdout)
        want = expected(lockfile)
        diffs = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
        status = "ok" if not diffs else f"MISMATCH {diffs}"
        failures += bool(diffs)
        print(f"{name:<10} " + ", ".join(f"{k}={v}" for k, v in want.items()) + f"  {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
