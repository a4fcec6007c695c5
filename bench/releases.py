#!/usr/bin/env python3
"""Verdicts on real releases (issue 19): `diff` on many published versions of popular crates,
each against a snapshot of its real repository, and every verdict that is not `matches` with
its cause, file by file.

For each crate below, the versions checked are the newest one published (whatever the snapshot
holds) and the newest others that have a tag in the snapshot (a tag ending in the version, such
as `1.0.18`, `v1.0.150`, `tokio-1.53.1`), up to the count given. Versions come from crates.io's
sparse index (yanked ones skipped); `.crate` files from static.crates.io, verified against the
index checksum by `diff` itself.

Each check: `cargo-audit-trust diff NAME@VERSION --repo MIRROR --format json` (the mirror pinned:
this machine cannot reach GitHub), one shared cache, one shared empty CARGO_HOME.

A verdict that is not `matches` is labelled when the snapshot, not the release, may explain it:
the release names another repository than the one mirrored; or its commit (from
`.cargo_vcs_info.json`) is not in the snapshot and the index's `pubtime` for the release is
later than the snapshot's newest commit ("snapshot older than the release"): a newer snapshot
could change the verdict.

Mirrors: bare clones with full history and tags, as `REPOS/owner+name/repo` (the layout of the
`fetch` tool's snapshots). On a machine with GitHub access:
    for r in $(python3 bench/releases.py --list-repos); do
        git clone --bare https://github.com/$r "REPOS/${r/\\//+}/repo"; done

Usage: bench/releases.py --repos DIR [--binary PATH] [--jobs N] [--json OUT] [--markdown]
Build first: cargo build --release -p cargo-audit-trust
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (crate, version) -> the index's `pubtime`, filled by index_versions
PUBLISHED = {}

# (crate, repository on GitHub, how many versions)
CRATES = [
    ("itoa", "dtolnay/itoa", 8),
    ("ryu", "dtolnay/ryu", 6),
    ("semver", "dtolnay/semver", 6),
    ("anyhow", "dtolnay/anyhow", 8),
    ("thiserror", "dtolnay/thiserror", 6),
    ("thiserror-impl", "dtolnay/thiserror", 4),
    ("syn", "dtolnay/syn", 8),
    ("proc-macro2", "dtolnay/proc-macro2", 6),
    ("serde", "serde-rs/serde", 6),
    ("serde_derive", "serde-rs/serde", 4),
    ("serde_core", "serde-rs/serde", 3),
    ("serde_json", "serde-rs/json", 8),
    ("tokio", "tokio-rs/tokio", 8),
    ("tokio-macros", "tokio-rs/tokio", 3),
    ("tokio-util", "tokio-rs/tokio", 3),
    ("tokio-stream", "tokio-rs/tokio", 3),
    ("bytes", "tokio-rs/bytes", 6),
    ("log", "rust-lang/log", 6),
    ("clap", "clap-rs/clap", 6),
    ("clap_builder", "clap-rs/clap", 4),
    ("clap_derive", "clap-rs/clap", 3),
    ("clap_lex", "clap-rs/clap", 3),
    ("rand", "rust-random/rand", 5),
    ("rand_core", "rust-random/rand", 3),
    ("rand_chacha", "rust-random/rand", 3),
    ("hyper", "hyperium/hyper", 6),
    ("futures", "rust-lang/futures-rs", 4),
    ("futures-util", "rust-lang/futures-rs", 3),
    ("futures-core", "rust-lang/futures-rs", 2),
]


def index_versions(name):
    """Published, not yanked, not pre-release versions, lowest first, from crates.io's sparse index."""
    lower = name.lower()
    if len(lower) <= 2:
        path = f"{len(lower)}/{lower}"
    elif len(lower) == 3:
        path = f"3/{lower[0]}/{lower}"
    else:
        path = f"{lower[:2]}/{lower[2:4]}/{lower}"
    request = urllib.request.Request(f"https://index.crates.io/{path}",
                                     headers={"User-Agent": "audit-trust-bench"})
    with urllib.request.urlopen(request, timeout=60) as response:
        lines = response.read().decode().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    for e in entries:
        if e.get("pubtime"):
            PUBLISHED[(name, e["vers"])] = e["pubtime"]
    versions = [e["vers"] for e in entries if not e.get("yanked") and "-" not in e["vers"]]
    return sorted(versions, key=version_key)


def mirror_of(repos, repository):
    return os.path.join(repos, repository.replace("/", "+"), "repo")


def tags_of(mirror):
    out = subprocess.run(["git", "-C", mirror, "tag"], capture_output=True, text=True)
    return out.stdout.split()


def has_tag(tags, version):
    pattern = re.compile(r"(^|[^0-9.])" + re.escape(version) + "$")
    return any(pattern.search(t) for t in tags)


def chosen(name, repository, count, repos):
    versions = index_versions(name)
    tags = tags_of(mirror_of(repos, repository))
    picks = [versions[-1]]
    for version in reversed(versions[:-1]):
        if len(picks) >= count:
            break
        if has_tag(tags, version):
            picks.append(version)
    return picks


def commit_in(mirror, commit):
    if not commit:
        return False
    out = subprocess.run(["git", "-C", mirror, "cat-file", "-e", f"{commit}^{{commit}}"],
                         capture_output=True)
    return out.returncode == 0


def same_repository(claimed, repository):
    claimed = (claimed or "").lower().rstrip("/").removesuffix(".git")
    return claimed.endswith("github.com/" + repository.lower())


def version_key(version):
    return tuple(int(p) for p in version.split("+")[0].split("."))


def snapshot_time(mirror):
    """The newest commit date on any branch or tag of the snapshot (ISO 8601, UTC)."""
    out = subprocess.run(["git", "-C", mirror, "for-each-ref", "--sort=-committerdate",
                          "--count=1", "--format=%(committerdate:unix)", "refs/heads",
                          "refs/tags"], capture_output=True, text=True)
    stamp = out.stdout.strip()
    return (datetime.datetime.fromtimestamp(int(stamp), datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%SZ") if stamp else None)


def label_all(reports, repos):
    """Labels the verdicts that the snapshot, not the release, may explain."""
    for r in reports:
        r["label"] = None
        if r.get("verdict") == "matches":
            continue
        claimed = r.get("claimed_repository")
        published = PUBLISHED.get((r["name"], r["version"]))
        snapshot = snapshot_time(mirror_of(repos, r["mirrored"]))
        if claimed and not same_repository(claimed, r["mirrored"]):
            r["label"] = f"the release names {claimed}, which has no snapshot here"
        elif not r.get("commit_in_snapshot") and published and snapshot and published > snapshot:
            r["label"] = (f"snapshot older than the release: published {published[:10]}, "
                          f"the snapshot's newest commit {snapshot[:10]}")


def check(binary, repos, cache, home, name, version, repository):
    mirror = mirror_of(repos, repository)
    out = subprocess.run([binary, "diff", f"{name}@{version}", "--repo", mirror, "--cache-dir",
                          cache, "--format", "json", "-q"],
                         env=dict(os.environ, CARGO_HOME=home), capture_output=True, text=True,
                         cwd=cache)
    try:
        report = json.loads(out.stdout)
    except json.JSONDecodeError:
        return {"name": name, "version": version, "verdict": "error",
                "reason": (out.stderr or out.stdout).strip()[-500:], "files": []}
    report["mirrored"] = repository
    report["commit_in_snapshot"] = commit_in(mirror, report.get("commit"))
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--binary", default=os.path.join(target, "release", "cargo-audit-trust"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", help="write every report here")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--list-repos", action="store_true")
    args = ap.parse_args()
    if args.list_repos:
        print("\n".join(sorted({r for _, r, _ in CRATES})))
        return 0
    if not args.repos or not os.access(args.binary, os.X_OK):
        sys.exit("needs --repos and a release build (see this script's header)")
    work = tempfile.mkdtemp(prefix="audit-trust-releases-")
    cache, home = os.path.join(work, "cache"), os.path.join(work, "home")
    os.makedirs(cache)
    os.makedirs(home)
    jobs = []
    for name, repository, count in CRATES:
        if not os.path.isdir(mirror_of(args.repos, repository)):
            sys.exit(f"no mirror for {repository} (see this script's header)")
        for version in chosen(name, repository, count, args.repos):
            jobs.append((name, version, repository))
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        reports = list(pool.map(lambda j: check(args.binary, args.repos, cache, home, *j), jobs))
    label_all(reports, args.repos)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(reports, f, indent=1)
    summary(reports, args.markdown)
    return 0


def summary(reports, markdown):
    kinds = ("matches", "differs", "unverifiable", "error")
    by_crate = {}
    for r in reports:
        counts = by_crate.setdefault(r["name"], dict.fromkeys(kinds + ("labelled",), 0))
        counts[r["verdict"]] += 1
        counts["labelled"] += bool(r.get("label"))
    total = {k: sum(c[k] for c in by_crate.values()) for k in kinds + ("labelled",)}
    print(f"{len(reports)} releases of {len(by_crate)} crates: {total['matches']} matches, "
          f"{total['differs']} differs, {total['unverifiable']} unverifiable, "
          f"{total['error']} errors; {total['labelled']} labelled (the snapshot, not the "
          f"release)")
    if markdown:
        print("\n| crate | releases | matches | differs | unverifiable | of which labelled |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, c in by_crate.items():
            n = sum(c[k] for k in kinds)
            print(f"| {name} | {n} | {c['matches']} | {c['differs']} | {c['unverifiable']} | "
                  f"{c['labelled']} |")
    print()
    for r in reports:
        if r["verdict"] == "matches":
            continue
        tag = f" [{r['label']}]" if r.get("label") else ""
        print(f"- {r['name']} {r['version']}: {r['verdict']}{tag}: {r['reason']}")
        for f in r.get("files", []):
            if f["status"] not in ("identical", "generated"):
                note = f" ({f['note']})" if f.get("note") else ""
                print(f"    {f['status']} {f['path']}{note}")
        for w in r.get("warnings", []):
            if "is pinned: the pinned repository is used" not in w:
                print(f"    warning: {w}")


if __name__ == "__main__":
    sys.exit(main())
