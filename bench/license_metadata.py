#!/usr/bin/env python3
"""Declared licenses against `cargo metadata` on the shared workloads (issue 11, cross-checks).

For each workload (ripgrep, cargo-vet, crates-io), per registry package name@version:
  * ours: `licenses --lockfile WORKLOAD/Cargo.lock --format json --packages`, the `declared`
    value (as written in the crate's normalized Cargo.toml) and the `expression` (as we
    normalize it: the old `A/B` form read as `A OR B`, and so on);
  * cargo's: `cargo metadata --format-version 1 --locked --all-features` on the real project at
    the commit the workload's Cargo.lock comes from, the `license` of the same name@version
    (`--all-features`: the lockfile also holds the optional dependencies of features that are
    off by default, such as ripgrep's globset `arbitrary`, which metadata leaves out without it).
Agreement is counted twice: raw (ours `declared` == cargo's `license`, byte for byte) and
normalized (ours `expression` == cargo's `license` with whitespace collapsed and `/` read as
` OR `, the only normalizations that are trivial to redo here). Every difference is listed with
both values; packages only one side knows are counted and listed.

The projects come from git repositories (the layout of `fetch` snapshots):
  REPOS/BurntSushi+ripgrep/repo, REPOS/mozilla+cargo-vet/repo, REPOS/rust-lang+crates.io/repo,
exported at the workloads' commits (see shared/workloads/README.md). The exported Cargo.lock must
equal the workload's, or the workload is refused. Cargo runs with RUSTUP_TOOLCHAIN=stable
(crates.io pins a toolchain that may not be installed; metadata does not depend on it) and a fresh
CARGO_HOME (or --cargo-home DIR to reuse downloads between runs). Network: crates.io.

Usage: bench/license_metadata.py [--shared DIR] [--repos DIR] [--binary PATH] [--cache DIR]
                                 [--cargo-home DIR] [--only NAME]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECTS = {
    # name: (repository folder below --repos, commit of the workload's Cargo.lock)
    "ripgrep": ("BurntSushi+ripgrep", "3fce3b5bb0236da2df6d99672afb8a719642eca7"),
    "cargo-vet": ("mozilla+cargo-vet", "e2111ef2eec20f354892fa1eaf53504cbec52b4c"),
    "crates-io": ("rust-lang+crates.io", "57fa000662f511321daa61e6769f190ea0e80771"),
}


def normalize(value):
    """The trivial normalizations: collapsed whitespace, and the old `A/B` form as `A OR B`."""
    if value is None:
        return None
    value = re.sub(r"\s*/\s*", " OR ", value.strip())
    return re.sub(r"\s+", " ", value)


def export(git_dir, commit, dest):
    archive = subprocess.run(["git", "-C", git_dir, "archive", commit], capture_output=True,
                             check=True).stdout
    os.makedirs(dest)
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)


def ours(args, lockfile, home):
    out = subprocess.run([args.binary, "licenses", "--lockfile", lockfile, "--cache-dir",
                          args.cache, "--format", "json", "--packages", "-q"],
                         capture_output=True, text=True, env=dict(os.environ, CARGO_HOME=home))
    if out.returncode not in (0, 1):
        sys.exit(f"licenses failed ({out.returncode}) on {lockfile}:\n{out.stderr[-2000:]}")
    return {f"{r['name']}@{r['version']}": r for r in json.loads(out.stdout)["rows"]}


def cargo_metadata(project, home):
    env = dict(os.environ, CARGO_HOME=home,
               RUSTUP_TOOLCHAIN=os.environ.get("RUSTUP_TOOLCHAIN", "stable"))
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked",
                          "--all-features"], cwd=project,
                         capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"cargo metadata failed in {project}:\n{out.stderr[-2000:]}")
    packages = {}
    for p in json.loads(out.stdout)["packages"]:
        source = p.get("source") or ""
        if source.startswith(("registry+", "sparse+")):
            packages[f"{p['name']}@{p['version']}"] = p
    return packages


def compare(name, mine, theirs):
    raw = norm = 0
    differ = []
    for key in sorted(set(mine) & set(theirs)):
        declared, expression = mine[key]["declared"], mine[key]["expression"]
        license = theirs[key].get("license")
        raw += declared == license
        if (expression or declared) == normalize(license):
            norm += 1
        else:
            differ.append((key, declared, expression, license, mine[key].get("note"),
                           theirs[key].get("license_file")))
    only_ours = sorted(set(mine) - set(theirs))
    only_cargo = sorted(set(theirs) - set(mine))
    both = len(set(mine) & set(theirs))
    common = set(mine) & set(theirs)
    rewritten = sum(mine[k]["expression"] not in (None, mine[k]["declared"]) for k in common)
    unset = sum(mine[k]["declared"] is None and theirs[k].get("license") is None
                for k in common)
    print(f"{name}: {both} packages on both sides; raw agree {raw}, differ {both - raw}; "
          f"normalized agree {norm}, differ {len(differ)}; only ours {len(only_ours)}, "
          f"only cargo metadata {len(only_cargo)} ({rewritten} expressions rewritten by our "
          f"normalization, {unset} without `license` on both sides)")
    for key, declared, expression, license, note, license_file in differ:
        print(f"  differ {key}: ours declared {declared!r} expression {expression!r} "
              f"note {note!r}; cargo metadata license {license!r} license_file {license_file!r}")
    for key in only_ours:
        print(f"  only ours: {key}")
    for key in only_cargo:
        print(f"  only cargo metadata: {key}")
    raw_only = [k for k in sorted(set(mine) & set(theirs))
                if mine[k]["declared"] != theirs[k].get("license")
                and k not in {d[0] for d in differ}]
    if raw_only:
        print(f"  raw differences the normalization explains ({len(raw_only)}):")
        for key in raw_only:
            print(f"    {key}: ours {mine[key]['declared']!r} -> {mine[key]['expression']!r}; "
                  f"cargo {theirs[key].get('license')!r}")
    return len(differ)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--repos", default=os.path.join(ROOT, "..", ".mirror"))
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug",
        "cargo-audit-trust"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                    "audit-trust-bench-cache"))
    ap.add_argument("--cargo-home", help="reuse this CARGO_HOME for cargo metadata")
    ap.add_argument("--only", choices=sorted(PROJECTS))
    args = ap.parse_args()

    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: cargo build -p cargo-audit-trust")
    work = tempfile.mkdtemp(prefix="audit-trust-license-metadata-")
    differences = 0
    try:
        # Our side downloads into --cache only: its CARGO_HOME is empty.
        empty_home = os.path.join(work, "empty-home")
        os.makedirs(empty_home)
        cargo_home = args.cargo_home or os.path.join(work, "cargo-home")
        for name, (repo, commit) in PROJECTS.items():
            if args.only and name != args.only:
                continue
            lockfile = os.path.join(args.shared, "workloads", name, "Cargo.lock")
            git_dir = os.path.join(args.repos, repo, "repo")
            if not os.path.isfile(lockfile) or not os.path.isdir(git_dir):
                print(f"{name}: skipped (no {lockfile} or no repository {git_dir})")
                continue
            project = os.path.join(work, name)
            export(git_dir, commit, project)
            with open(lockfile, "rb") as a, open(os.path.join(project, "Cargo.lock"), "rb") as b:
                if a.read() != b.read():
                    print(f"{name}: skipped (Cargo.lock at {commit} is not the workload's)")
                    continue
            differences += compare(name, ours(args, lockfile, empty_home),
                                   cargo_metadata(project, cargo_home))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
