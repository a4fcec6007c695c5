#!/usr/bin/env python3
"""The registry benchmark (issue: sign-offs and audit-registry).

A release `audit-registry` serves on loopback (rate limit off); a second process,
`registry_load` (audit-registry/examples/registry_load.rs), drives it:

1. seed: AUDITORS auditors each sign off every registry package of the crates-io workload
   (850 packages) and publish BATCH records per request, all at once: records per second,
   every signature verified and every batch committed (target >= 1000/s).
2. query: one `POST /v1/crates` for the whole lockfile, back to back, at 1 and at 32 concurrent
   clients: p50 / p99 latency (target p99 <= 20 ms at 32).
   The same with every request body different (one extra, unique name), so the server's cache
   of whole answers never hits and each answer is assembled from the per-crate cache.
3. reads: `GET /v1/crates/{name}` round the lockfile's crates: reads per second (target >= 5000/s).

The same on PostgreSQL when --postgres URL is given (a fresh schema, dropped afterwards).
Every load is bounded in time (--seconds) and in requests (--max-requests).

Usage: bench/registry.py [--shared DIR] [--postgres URL] [--seconds N] [--max-requests N]
                         [--auditors N] [--batch N] [--markdown]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = {"records_per_second": 1000, "query_p99_ms_32": 20, "reads_per_second": 5000}


def build():
    subprocess.run(["cargo", "build", "--release", "-p", "audit-registry",
                    "--bin", "audit-registry", "--example", "registry_load"],
                   cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return (os.path.join(target, "release", "audit-registry"),
            os.path.join(target, "release", "examples", "registry_load"))


def start(registry, db):
    proc = subprocess.Popen([registry, "serve", "--listen", "127.0.0.1:0", "--db", db,
                             "--rate-per-minute", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "RUST_LOG": "warn"})
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"audit-registry did not start: {line!r}")
    return proc, line[len("listening on "):]


def load(tool, args):
    out = subprocess.run([tool] + args, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"registry_load {args[0]} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def run_backend(name, db, registry, tool, lock, opts):
    token = subprocess.run([registry, "admin-token", "new", f"bench{int(time.time())}",
                            "--db", db], capture_output=True, text=True, check=True).stdout.strip()
    proc, url = start(registry, db)
    try:
        seed = load(tool, ["seed", url, token, lock, str(opts.auditors), str(opts.batch)])
        q1 = load(tool, ["query", url, lock, "1", str(opts.seconds), str(opts.max_requests)])
        q32 = load(tool, ["query", url, lock, "32", str(opts.seconds), str(opts.max_requests)])
        v32 = load(tool, ["query-varied", url, lock, "32", str(opts.seconds),
                          str(opts.max_requests)])
        reads = load(tool, ["reads", url, lock, "16", str(opts.seconds),
                            str(opts.max_requests * 20)])
    finally:
        proc.kill()
        proc.wait()
    return {"backend": name, "seed": seed, "query1": q1, "query32": q32, "varied32": v32,
            "reads": reads}


def postgres_schema(base):
    """A fresh schema in `base` and the URL that uses it; psql makes it."""
    schema = f"bench_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", base, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-c%20search_path%3D{schema}"


def report(results, markdown):
    rows = []
    for r in results:
        s, q1, q32, v32, rd = (r["seed"], r["query1"], r["query32"], r["varied32"], r["reads"])
        rows.append((r["backend"], s["records"], s["records_per_second"],
                     q1["p50_ms"], q1["p99_ms"], q32["p50_ms"], q32["p99_ms"],
                     q32["requests_per_second"], v32["p50_ms"], v32["p99_ms"],
                     rd["requests_per_second"], rd["p99_ms"], q1["records_in_first_answer"]))
    head = ("backend", "records", "publish rec/s", "query@1 p50 ms", "query@1 p99 ms",
            "query@32 p50 ms", "query@32 p99 ms", "query@32 req/s", "varied@32 p50 ms",
            "varied@32 p99 ms", "reads/s", "reads p99 ms", "records per answer")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + " --- |" * len(head))
        for row in rows:
            print("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v)
                                    for v in row) + " |")
    else:
        for row in rows:
            print(dict(zip(head, row)))
    for r in results:
        b = r["backend"]
        print(f"{b}: publish {r['seed']['records_per_second'] / TARGETS['records_per_second']:.2f}x "
              f"of the 1000 rec/s target; query@32 p99 "
              f"{r['query32']['p99_ms'] / TARGETS['query_p99_ms_32']:.2f}x of the 20 ms budget; "
              f"reads {r['reads']['requests_per_second'] / TARGETS['reads_per_second']:.2f}x "
              f"of the 5000/s target")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    p.add_argument("--postgres", help="e.g. postgres://postgres@127.0.0.1:5432/test")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--max-requests", type=int, default=5000)
    # The workload: one sign-off for each of the 850 packages.
    p.add_argument("--auditors", type=int, default=1)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--markdown", action="store_true")
    opts = p.parse_args()
    lock = os.path.join(opts.shared, "workloads", "crates-io", "Cargo.lock")
    if not os.path.exists(lock):
        sys.exit(f"no workload at {lock}: pass --shared DIR")
    registry, tool = build()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = "sqlite://" + os.path.join(tmp, "bench.db")
        results.append(run_backend("sqlite", db, registry, tool, lock, opts))
    if opts.postgres:
        schema, url = postgres_schema(opts.postgres)
        try:
            results.append(run_backend("postgres", url, registry, tool, lock, opts))
        finally:
            subprocess.run(["psql", opts.postgres, "-qc", f"DROP SCHEMA {schema} CASCADE"])
    print(f"load average: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    report(results, opts.markdown)


if __name__ == "__main__":
    main()
