#!/usr/bin/env python3
"""The registry benchmark (issue: sign-offs and audit-registry).

A release `audit-registry` serves on loopback (rate limit off). Second processes drive it:
`registry_load` (audit-registry/examples/registry_load.rs) signs and publishes, and checks one
whole answer for correctness; `wrk` (Debian's package; C, epoll, two threads) measures latency
and throughput, so that the load generator is not what is measured on a two-core machine.

1. seed: AUDITORS auditors each sign off every registry package of the crates-io workload
   (850 packages) and publish BATCH records per request, all at once: records per second,
   every signature verified and every batch committed (target >= 1000/s).
2. query: one `POST /v1/crates` for the whole lockfile, back to back, at 1 and at 32 concurrent
   clients: p50 / p99 latency (target p99 <= 20 ms at 32).
   The same with every request body different (one extra, unique name), so the server's cache
   of whole answers never hits and each answer is assembled from the per-crate cache.
3. reads: `GET /v1/crates/{name}` round the lockfile's crates, 32 connections: reads per second
   (target >= 5000/s).

The same on PostgreSQL when --postgres URL is given (a fresh schema, dropped afterwards).
Every load is bounded in time (--seconds); registry_load's also in requests (--max-requests).

Usage: bench/registry.py [--shared DIR] [--postgres URL] [--seconds N] [--max-requests N]
                         [--auditors N] [--batch N] [--markdown]
"""

import argparse
import json
import os
import re
import shutil
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


def crate_names(lock):
    text = open(lock).read()
    return sorted(set(re.findall(r'name = "([^"]+)"\nversion = "[^"]+"\nsource = "(?:registry|sparse)', text)))


def wrk_scripts(tmp, names):
    """Lua for wrk: the whole-lockfile query, the same made unique per request, and single
    reads round the lockfile's crates."""
    body = json.dumps({"crates": {n: None for n in names}}, separators=(",", ":"))
    head = 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    paths = {}
    paths["query"] = os.path.join(tmp, "query.lua")
    with open(paths["query"], "w") as f:
        f.write(head + "wrk.body = [[" + body + "]]\n")
    paths["varied"] = os.path.join(tmp, "varied.lua")
    with open(paths["varied"], "w") as f:
        f.write(head + "local rest = [[" + body[len('{"crates":{'):] + "]]\n"
                "local n = 0\n"
                "request = function()\n  n = n + 1\n"
                "  return wrk.format(nil, nil, nil, '{\"crates\":{\"zz-bench-' .. n .. '\":null,' .. rest)\nend\n")
    paths["reads"] = os.path.join(tmp, "reads.lua")
    with open(paths["reads"], "w") as f:
        f.write("local names = {" + ",".join(f'"{n}"' for n in names) + "}\n"
                "local i = 0\n"
                "request = function()\n  i = i % #names + 1\n"
                "  return wrk.format('GET', '/v1/crates/' .. names[i])\nend\n")
    return paths


def to_ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def wrk(url, script, connections, seconds):
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--latency", "-s", script, url],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        sys.exit(f"wrk failed: {out.stderr.strip()}")
    text = out.stdout
    if "Non-2xx" in text or "Socket errors" in text:
        sys.exit(f"wrk saw errors:\n{text}")
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", text, re.M))
    rps = float(re.search(r"Requests/sec:\s+(\S+)", text).group(1))
    return {"p50_ms": to_ms(pct["50"]), "p99_ms": to_ms(pct["99"]), "requests_per_second": rps}


def run_backend(name, db, registry, tool, lock, opts, scripts):
    token = subprocess.run([registry, "admin-token", "new", f"bench{int(time.time())}",
                            "--db", db], capture_output=True, text=True, check=True).stdout.strip()
    proc, url = start(registry, db)
    try:
        seed = load(tool, ["seed", url, token, lock, str(opts.auditors), str(opts.batch)])
        # One client through registry_load first: it checks a whole answer is right.
        checked = load(tool, ["query", url, lock, "1", "2", "50"])
        q1 = wrk(url + "/v1/crates", scripts["query"], 1, opts.seconds)
        q32 = wrk(url + "/v1/crates", scripts["query"], 32, opts.seconds)
        v32 = wrk(url + "/v1/crates", scripts["varied"], 32, opts.seconds)
        reads = wrk(url, scripts["reads"], 32, opts.seconds)
    finally:
        proc.kill()
        proc.wait()
    q1["records_in_first_answer"] = checked["records_in_first_answer"]
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
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install wrk)")
    registry, tool = build()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        scripts = wrk_scripts(tmp, crate_names(lock))
        db = "sqlite://" + os.path.join(tmp, "bench.db")
        results.append(run_backend("sqlite", db, registry, tool, lock, opts, scripts))
        if opts.postgres:
            schema, url = postgres_schema(opts.postgres)
            try:
                results.append(run_backend("postgres", url, registry, tool, lock, opts, scripts))
            finally:
                subprocess.run(["psql", opts.postgres, "-qc", f"DROP SCHEMA {schema} CASCADE"],
                               capture_output=True)
    print(f"load average: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    report(results, opts.markdown)


if __name__ == "__main__":
    main()
