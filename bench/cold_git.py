#!/usr/bin/env python3
"""Cold provenance against `git clone --depth 1`, same mirror, same run (issue 19, item 2).

For itoa, serde_json and tokio (small, medium, large), each round measures, with
`/usr/bin/time -v` (wall time and peak memory):

- **diff, local mirror**: `cargo-audit-trust diff NAME@VERSION --repo MIRROR` into an empty cache
  and an empty CARGO_HOME (the `.crate` comes from crates.io, as for a user), against
  `git clone --depth 1 --branch TAG file://MIRROR`;
- **fetch, git protocol**: the mirror served by a real `git daemon` on loopback, fetched by the
  targeted fetch itself (`audit-trust-core/examples/targeted_fetch.rs`, the code `diff` runs:
  `diff` refuses `git://` URLs) into an empty cache, against
  `git clone --depth 1 --branch TAG git://127.0.0.1:PORT/...`. This is the path https and ssh
  take (the same smart protocol), without the network's latency.

Rounds are interleaved (ours, then git; the order alternates) and medians are reported, with
ratio = ours / git.

Mirrors: bare clones with full history and tags, as `REPOS/owner+name/repo` (the layout of the
`fetch` tool's snapshots). On a machine with GitHub access:
    for r in dtolnay/itoa serde-rs/json tokio-rs/tokio; do
        git clone --bare https://github.com/$r "REPOS/${r/\\//+}/repo"; done
A snapshot may be shallow or lack tags: the script checks with git and stops if so.

Usage: bench/cold_git.py --repos DIR [--runs N] [--binary PATH] [--example PATH] [--markdown]
Build first: cargo build --release -p cargo-audit-trust && \\
             cargo build --release -p audit-trust-core --example targeted_fetch
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATES = [
    # (crate, version, repository folder below --repos, tag)
    ("itoa", "1.0.18", "dtolnay+itoa", "1.0.18"),
    ("serde_json", "1.0.150", "serde-rs+json", "v1.0.150"),
    ("tokio", "1.53.1", "tokio-rs+tokio", "tokio-1.53.1"),
]


def measured(cmd, env=None, ok=(0,)):
    """(wall seconds, peak RSS in MB) of `cmd` under /usr/bin/time -v."""
    start = time.perf_counter()
    out = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode not in ok:
        sys.exit(f"failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout[-2000:]}"
                 f"\n{out.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    return wall, (int(rss.group(1)) / 1024 if rss else float("nan")), out.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_mirror(git_dir, tag):
    if not os.path.isdir(git_dir):
        sys.exit(f"no mirror at {git_dir} (see this script's header)")
    shallow = subprocess.run(["git", "-C", git_dir, "rev-parse", "--is-shallow-repository"],
                             capture_output=True, text=True).stdout.strip()
    if shallow != "false":
        sys.exit(f"{git_dir} is shallow; the benchmark needs a full mirror")
    commit = subprocess.run(["git", "-C", git_dir, "rev-parse", "--verify", "-q",
                             f"refs/tags/{tag}^{{commit}}"], capture_output=True, text=True)
    if commit.returncode != 0:
        sys.exit(f"{git_dir} has no tag {tag}")
    return commit.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", required=True)
    ap.add_argument("--runs", type=int, default=3)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--binary", default=os.path.join(target, "release", "cargo-audit-trust"))
    ap.add_argument("--example", default=os.path.join(target, "release", "examples",
                                                      "targeted_fetch"))
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    for path in (args.binary, args.example):
        if not os.access(path, os.X_OK):
            sys.exit(f"no binary at {path} (see this script's header)")
    commits = {name: check_mirror(os.path.join(args.repos, folder, "repo"), tag)
               for name, _, folder, tag in CRATES}
    work = tempfile.mkdtemp(prefix="audit-trust-bench-git-")
    port = free_port()
    daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all",
                               f"--base-path={args.repos}", f"--port={port}",
                               "--listen=127.0.0.1", args.repos],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)
        run(args, work, port, commits)
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(args, work, port, commits):
    rows = {}
    for i in range(args.runs):
        for name, version, folder, tag in CRATES:
            mirror = os.path.join(args.repos, folder, "repo")
            url = f"git://127.0.0.1:{port}/{folder}/repo"

            def diff():
                cache, home = (tempfile.mkdtemp(dir=work) for _ in range(2))
                result = measured([args.binary, "diff", f"{name}@{version}", "--repo", mirror,
                                   "--cache-dir", cache, "-q", "--format", "json"],
                                  env=dict(os.environ, CARGO_HOME=home))
                if not re.search(r'"verdict":\s*"matches"', result[2]):
                    sys.exit(f"{name}@{version}: not `matches`:\n{result[2][:2000]}")
                return result[:2]

            def fetch():
                cache = tempfile.mkdtemp(dir=work)
                return measured([args.example, url, name, version, commits[name], cache])[:2]

            def clone(source):
                dest = os.path.join(tempfile.mkdtemp(dir=work), "clone")
                return measured(["git", "clone", "-q", "--depth", "1", "--branch", tag, source,
                                 dest])[:2]

            pairs = [
                ("diff_local", diff, "clone_local", lambda: clone(f"file://{mirror}")),
                ("fetch_git", fetch, "clone_git", lambda: clone(url)),
            ]
            for ours_key, ours, git_key, git in pairs:
                steps = [(ours_key, ours), (git_key, git)]
                for key, step in steps if i % 2 == 0 else reversed(steps):
                    rows.setdefault((name, key), []).append(step())
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work, exist_ok=True)
        print(f"round {i + 1} done", file=sys.stderr)
    report(args, rows)


def report(args, rows):
    def med(name, key):
        values = rows[(name, key)]
        return (statistics.median(v[0] for v in values), max(v[1] for v in values))

    kinds = [("diff_local", "clone_local", "`diff --repo MIRROR`",
              "`git clone --depth 1 --branch TAG file://MIRROR`"),
             ("fetch_git", "clone_git", "targeted fetch over `git://` (loopback `git daemon`)",
              "`git clone --depth 1 --branch TAG git://…`")]
    if args.markdown:
        print("| crate | ours | s | peak MB | baseline | s | peak MB | time ratio |")
        print("| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |")
    for name, version, _, _ in CRATES:
        for ours, base, ours_label, base_label in kinds:
            (t, m), (bt, bm) = med(name, ours), med(name, base)
            if args.markdown:
                print(f"| {name} {version} | {ours_label} | {t:.2f} | {m:.0f} | {base_label} | "
                      f"{bt:.2f} | {bm:.0f} | {t / bt:.2f}× |")
            else:
                print(f"{name} {version}: {ours_label} {t:.2f} s {m:.0f} MB; {base_label} "
                      f"{bt:.2f} s {bm:.0f} MB; ratio {t / bt:.2f}x")
    print(f"\nMedians of {args.runs} rounds; peak memory is the largest of the rounds.")


if __name__ == "__main__":
    sys.exit(main())
