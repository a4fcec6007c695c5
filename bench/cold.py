#!/usr/bin/env python3
"""Cold runs against cargo on the same projects, same network, same run (issue 19, item 1).

- cold `check --lockfile` on the cargo-vet workload (empty cache, empty CARGO_HOME, local
  advisory database) vs `cargo generate-lockfile` on the cargo-vet project with an empty
  CARGO_HOME: both read the sparse index of about 250 crates from crates.io;
- cold `stats --lockfile` on the crates-io workload (empty cache, empty CARGO_HOME: every crate
  file downloaded, verified and classified) vs `cargo fetch --locked` of the same lockfile into
  an empty CARGO_HOME;
- cold `check` on the cargo-vet workload after `init` (every package exempted, so the risk
  signals of every package are computed: its crate file and its base's are downloaded and read)
  vs `cargo fetch --locked` of the cargo-vet project, which also downloads every crate file;
- warm `check` and `stats` (same cache again, nothing to download), to show nothing regressed.

Rounds are interleaved (ours, then cargo, then ours...) so both see the same machine load and
network; medians are reported, with ratio = ours / cargo.

Needs, beside the repository (default ../shared, i.e. the project's shared data):
  workloads/{cargo-vet,crates-io}/Cargo.lock and advisory-db/;
and, for cargo's side, the two projects with their manifests, at the workloads' commits (see
workloads/README.md): --projects DIR holding cargo-vet/ and crates-io/, or --repos DIR holding
git repositories `mozilla+cargo-vet/repo` and `rust-lang+crates.io/repo` (the layout of `fetch`
snapshots; on a machine with GitHub access, `git clone --bare https://github.com/mozilla/cargo-vet
DIR/mozilla+cargo-vet/repo` and the same for rust-lang/crates.io), from which the script
exports the right commits. Network: index.crates.io and static.crates.io.

Cargo runs with RUSTUP_TOOLCHAIN=stable (crates.io pins a toolchain that may not be installed;
fetching does not depend on it).

Usage: bench/cold.py [--shared DIR] [--projects DIR | --repos DIR] [--runs N] [--binary PATH]
                     [--markdown]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECTS = {
    # name: (repository folder below --repos, commit of the workload's Cargo.lock)
    "cargo-vet": ("mozilla+cargo-vet", "e2111ef2eec20f354892fa1eaf53504cbec52b4c"),
    "crates-io": ("rust-lang+crates.io", "57fa000662f511321daa61e6769f190ea0e80771"),
}


def timed(cmd, cwd=None, env=None, ok=(0,)):
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode not in ok:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return wall


def project_dirs(args, work):
    """Folders holding each project's manifests and the workload's Cargo.lock."""
    out = {}
    for name, (repo, commit) in PROJECTS.items():
        if args.projects and os.path.isfile(os.path.join(args.projects, name, "Cargo.toml")):
            out[name] = os.path.join(args.projects, name)
            continue
        git_dir = os.path.join(args.repos or "", repo, "repo")
        if not args.repos or not os.path.isdir(git_dir):
            return None
        dest = os.path.join(work, "projects", name)
        os.makedirs(dest)
        archive = subprocess.run(["git", "-C", git_dir, "archive", commit], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
        out[name] = dest
    return out


def fresh(work, label):
    return tempfile.mkdtemp(prefix=label + "-", dir=work)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    ap.add_argument("--projects")
    ap.add_argument("--repos")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release",
        "cargo-audit-trust"))
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    workloads = os.path.join(args.shared, "workloads")
    db = os.path.join(args.shared, "advisory-db")
    if not os.path.isdir(workloads) or not os.path.isdir(db):
        print(f"skipped: no workloads/ or advisory-db/ in {args.shared} (the project's shared "
              "data; pass --shared DIR)")
        return 0
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: cargo build --release -p cargo-audit-trust")
    work = tempfile.mkdtemp(prefix="audit-trust-bench-cold-")
    try:
        projects = project_dirs(args, work)
        if projects is None:
            print("skipped: the cargo-vet and crates-io projects are needed for cargo's side "
                  "(--projects DIR or --repos DIR; see this script's header)")
            return 0
        for name, path in projects.items():
            with open(os.path.join(workloads, name, "Cargo.lock"), "rb") as a, \
                    open(os.path.join(path, "Cargo.lock"), "rb") as b:
                if a.read() != b.read():
                    sys.exit(f"{path}/Cargo.lock is not the workload's lockfile")
        run(args, work, projects, workloads, db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(args, work, projects, workloads, db):
    cargo_env = dict(os.environ, RUSTUP_TOOLCHAIN=os.environ.get("RUSTUP_TOOLCHAIN", "stable"))
    vet_lock = os.path.join(workloads, "cargo-vet", "Cargo.lock")
    cio_lock = os.path.join(workloads, "crates-io", "Cargo.lock")
    # `generate-lockfile` rewrites Cargo.lock: it runs in a copy.
    vet_copy = os.path.join(work, "cargo-vet-copy")
    shutil.copytree(projects["cargo-vet"], vet_copy)

    def ours(subcommand, lockfile, cache, home, extra=()):
        env = dict(os.environ, CARGO_HOME=home)
        return timed([args.binary, subcommand, "--lockfile", lockfile, "--cache-dir", cache, "-q",
                      "--format", "json", *extra], env=env, ok=(0, 1))

    def cargo(cmd, cwd):
        home = fresh(work, "cargo-home")
        t = timed(["cargo", *cmd, "-q"], cwd=cwd, env=dict(cargo_env, CARGO_HOME=home))
        shutil.rmtree(home, ignore_errors=True)
        return t

    check_extra = ("--advisory-db", db, "--allow-stale")
    # A Cargo.audit as `init` writes it on adoption day: every package exempted.
    adopted = os.path.join(work, "adopted")
    os.makedirs(adopted)
    key = os.path.join(adopted, "key")
    subprocess.run([args.binary, "key", "new", "--out", key, "-q"], check=True,
                   capture_output=True)
    audit = os.path.join(adopted, "Cargo.audit")
    subprocess.run([args.binary, "init", "--lockfile", vet_lock, "--audit-file", audit, "--key",
                    key, "--cache-dir", fresh(work, "init-cache"), "-q"], check=True,
                   capture_output=True, env=dict(os.environ, CARGO_HOME=fresh(work, "init-home")))
    adopted_extra = (*check_extra, "--audit-file", audit)
    rows = {k: [] for k in ("check", "generate", "stats", "fetch", "warm_check", "warm_stats",
                            "adopted", "vet_fetch", "warm_adopted")}
    for i in range(args.runs):
        # Alternate which side goes first, so neither always meets a warmer network path.
        pair = [
            lambda: rows["generate"].append(cargo(["generate-lockfile"], vet_copy)),
            lambda: rows["check"].append(cold_then_warm(
                ours, "check", vet_lock, work, check_extra, rows["warm_check"])),
        ]
        for step in pair if i % 2 else reversed(pair):
            step()
        pair = [
            lambda: rows["fetch"].append(cargo(["fetch", "--locked"], projects["crates-io"])),
            lambda: rows["stats"].append(cold_then_warm(
                ours, "stats", cio_lock, work, (), rows["warm_stats"])),
        ]
        for step in pair if i % 2 else reversed(pair):
            step()
        pair = [
            lambda: rows["vet_fetch"].append(cargo(["fetch", "--locked"], projects["cargo-vet"])),
            lambda: rows["adopted"].append(cold_then_warm(
                ours, "check", vet_lock, work, adopted_extra, rows["warm_adopted"])),
        ]
        for step in pair if i % 2 else reversed(pair):
            step()
        print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items()),
              file=sys.stderr)

    med = {k: statistics.median(v) for k, v in rows.items()}
    lines = [
        ("cold `check` (cargo-vet, 262 registry packages)", "check",
         "`cargo generate-lockfile`", "generate"),
        ("cold `stats` (crates-io, 850 registry packages)", "stats",
         "`cargo fetch --locked`", "fetch"),
        ("cold `check` after `init` (cargo-vet, 262 exempted: signals for all)", "adopted",
         "`cargo fetch --locked`", "vet_fetch"),
    ]
    if args.markdown:
        print("| cold work | ours s | baseline | baseline s | ratio |")
        print("| --- | ---: | --- | ---: | ---: |")
        for label, key, base_label, base in lines:
            print(f"| {label} | {med[key]:.2f} | {base_label} | {med[base]:.2f} | "
                  f"{med[key] / med[base]:.2f}× |")
        print()
        print(f"Warm (same cache, run right after each cold run): `check` {med['warm_check']:.2f} s, "
              f"`stats` {med['warm_stats']:.2f} s, `check` after `init` "
              f"{med['warm_adopted']:.2f} s. Medians of {args.runs} rounds.")
    else:
        for label, key, base_label, base in lines:
            print(f"{label}: {med[key]:.2f} s; {base_label}: {med[base]:.2f} s; "
                  f"ratio {med[key] / med[base]:.2f}x")
        print(f"warm check (cargo-vet): {med['warm_check']:.2f} s; "
              f"warm stats (crates-io): {med['warm_stats']:.2f} s; "
              f"warm check after init (cargo-vet): {med['warm_adopted']:.2f} s")


def cold_then_warm(ours, subcommand, lockfile, work, extra, warm_rows):
    """A cold run into an empty cache and an empty CARGO_HOME (so cargo's own cache cannot
    serve any crate file), then a warm run on the same cache; returns the cold time."""
    cache, home = fresh(work, "cache"), fresh(work, "home")
    cold = ours(subcommand, lockfile, cache, home, extra)
    warm_rows.append(ours(subcommand, lockfile, cache, home, extra))
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    return cold


if __name__ == "__main__":
    sys.exit(main())
