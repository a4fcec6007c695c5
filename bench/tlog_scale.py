#!/usr/bin/env python3
"""The transparency log at scale (issue 12, "Measure"): appends, the batch answer, the client's
check and a fresh runner, against a log of RECORDS signed records on PostgreSQL.

1. Load. `tlog_load sign` (audit-registry/examples/tlog_load.rs) plans RECORDS records over
   CRATES crate names, every registry package name of the crates-io workload among them, spread
   over AUDITORS keys, and signs them and their heads before the clock starts. The database is
   created afresh; an `audit-registry serve` on it takes them through `POST /v1/publish`
   (`tlog_load publish`, one thread per auditor), while a side thread polls the checkpoint every
   100 ms. Reported: records/s overall and per tenth of the load, ms per publish as the log
   grows, and the spacing of checkpoint changes.
2. Restart. The registry is started again on the loaded database; the time to its first answer
   includes catching up the whole log from the database.
3. Batch answer. `POST /v1/crates` for every registry crate of the crates-io lockfile, with
   proofs: bytes, then p50/p99 at CLIENTS concurrent clients (`registry_load query`).
4. Client check. `gate_read per-crate` (the core read `check` does, every proof and signature
   verified) with an empty cache (a fresh runner: bytes through a counting relay, and time) and
   again with the cache of the previous run (warm).
   With --static, the registry's static export is then written (`audit-registry export`, first
   run and a run with nothing new, timed), served from loopback by a plain HTTP/1.1 file
   server without compression, and read by `gate_read static` (the log pinned on the export's
   URL: the per-crate files, every hash verified) with an empty cache and warm: bytes, files
   fetched, seconds.
5. Baseline, in the same run: a fresh SQLite registry with about 10,000 records
   (`registry_load seed`, 12 auditors x 850 packages), read by `gate_read whole` (today's
   whole-log sync) with an empty cache.

With --skip-load, steps 2-5 run against the database as it is (DIR/meta.json names its keys),
so the measurements can be repeated after a change without loading again.

Usage: bench/tlog_scale.py [--records N] [--crates N] [--auditors N] [--batch N] [--seed N]
       [--postgres URL] [--work DIR] [--skip-sign] [--publish-seconds S] [--skip-load]
       [--keep-db] [--runs N] [--trusted N] [--clients N] [--seconds S] [--no-build] [--shared DIR]
       [--static] [--markdown]
"""

import argparse
import functools
import gzip
import http.server
import threading
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from per_crate import Relay  # noqa: E402  (the same byte-counting relay)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build():
    subprocess.run(["cargo", "build", "--release", "-p", "audit-registry", "--bin", "audit-registry",
                    "--example", "tlog_load", "--example", "registry_load", "--example", "gate_read"],
                   cwd=ROOT, check=True)
    out = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
    ex = os.path.join(out, "examples")
    return (os.path.join(out, "audit-registry"), os.path.join(ex, "tlog_load"),
            os.path.join(ex, "registry_load"), os.path.join(ex, "gate_read"))


def run(cmd, timeout=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        sys.exit(f"{os.path.basename(cmd[0])} failed: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


def keep(res, work):
    """Writes what is measured so far, so a long run that fails late keeps its early steps."""
    with open(os.path.join(work, "partial.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1)


def pg_args(url):
    u = urllib.parse.urlparse(url)
    return ["-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres"], \
        u.path.lstrip("/")


class Registry:
    """An `audit-registry serve` on `db`; `started` is the seconds from spawn to its first answer."""

    def __init__(self, binary, db):
        t0 = time.monotonic()
        self.proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--db", db,
                                      "--rate-per-minute", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, "RUST_LOG": "warn"})
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            sys.exit(f"audit-registry did not start: {line!r}")
        self.url = line[len("listening on "):]
        # The registry catches its log up from the database at start; a checkpoint read does
        # not wait for that, an answer with a proof does.
        try:
            self.caught_up()
        except BaseException:
            self.stop()
            raise
        self.started = time.monotonic() - t0

    def caught_up(self):
        try:
            size = int(self.checkpoint().splitlines()[1])
        except urllib.error.HTTPError:
            return  # an empty log: no checkpoint yet, nothing to catch up
        if size:
            with urllib.request.urlopen(self.url + "/v1/log/consistency?from=1",
                                        timeout=3600) as r:
                r.read()

    def checkpoint(self):
        with urllib.request.urlopen(self.url + "/v1/log/checkpoint", timeout=3600) as r:
            return r.read().decode()

    def get_json(self, path):
        with urllib.request.urlopen(self.url + path, timeout=600) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def lock_names(lock):
    """The lockfile's registry packages, name -> sorted versions, as `check` and
    `registry_load query` ask for them (answers scoped to those versions)."""
    names, name, version, registry = {}, None, None, False

    def done():
        if name and version and registry:
            names.setdefault(name, set()).add(version)

    for line in open(lock, encoding="utf-8"):
        line = line.strip()
        if line == "[[package]]":
            done()
            name, version, registry = None, None, False
        elif line.startswith("name = "):
            name = line.split('"')[1].lower()
        elif line.startswith('version = "'):
            version = line.split('"')[1]
        elif line.startswith("source = ") and ("registry+" in line or "sparse+" in line):
            registry = True
    done()
    return {n: sorted(v) for n, v in sorted(names.items())}


def bucket(key):
    """The key bucket the log files a key's entries under (first 11 base64 characters)."""
    return key.split(":", 1)[1][:11]


def answer_bytes(url, names, keys):
    """The batch answer `check` gets: scoped to the lockfile's versions and the trusted keys,
    gzipped (ureq asks for gzip). Returns the bytes as sent, the records in it and the seconds
    to the answer."""
    body = json.dumps({"crates": {n: None for n in names}, "versions": names,
                       "keys": sorted({bucket(k) for k in keys})}).encode()
    req = urllib.request.Request(url + "/v1/crates", data=body,
                                 headers={"content-type": "application/json",
                                          "accept-encoding": "gzip"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=600) as r:
        data = r.read()
        encoding = r.headers.get("content-encoding", "")
    seconds = time.monotonic() - t0
    plain = gzip.decompress(data) if encoding == "gzip" else data
    answer = json.loads(plain)
    records = sum(len(c.get("records", [])) for c in answer["crates"].values())
    return len(data), records, seconds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=10_000_000)
    p.add_argument("--crates", type=int, default=150_000)
    p.add_argument("--auditors", type=int, default=36)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/tlog10m")
    p.add_argument("--work", default=None, help="where signed bodies go (default: a temp dir)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--trusted", type=int, default=0,
                   help="the client pins this many of the auditors (0: all of them)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=int, default=30, help="length of the p99 run")
    p.add_argument("--publish-seconds", type=int, default=0,
                   help="stop starting publishes after this long (0: publish everything)")
    p.add_argument("--skip-sign", action="store_true", help="WORK holds bodies signed before")
    p.add_argument("--skip-load", action="store_true", help="measure the database as it is")
    p.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    p.add_argument("--static", action="store_true",
                   help="also export the log and read it per crate from a static server")
    p.add_argument("--markdown", action="store_true")
    o = p.parse_args()
    lock = os.path.join(o.shared, "workloads", "crates-io", "Cargo.lock")
    if not os.path.exists(lock):
        sys.exit(f"no workload at {lock}: pass --shared DIR")
    if o.no_build:
        out = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
        registry, tool, load, reader = (os.path.join(out, "audit-registry"),
                                        *(os.path.join(out, "examples", n)
                                          for n in ("tlog_load", "registry_load", "gate_read")))
    else:
        registry, tool, load, reader = build()
    work = o.work_dir = o.work or tempfile.mkdtemp(prefix="tlog-scale-")
    conn, dbname = pg_args(o.postgres)
    res = {"records_planned": o.records, "crates": o.crates, "auditors": o.auditors, "batch": o.batch}
    if not o.skip_load:
        if not o.skip_sign:
            res["sign"] = run([tool, "sign", lock, str(o.records), str(o.crates), str(o.auditors),
                               str(o.batch), str(o.seed), work])
        subprocess.run(["dropdb", *conn, "--if-exists", dbname], check=True)
        subprocess.run(["createdb", *conn, dbname], check=True)
        token = subprocess.run([registry, "admin-token", "new", "bench", "--db", o.postgres],
                               capture_output=True, text=True, check=True).stdout.strip()
        reg = Registry(registry, o.postgres)
        try:
            res["load"] = run([tool, "publish", reg.url, token, work]
                              + ([str(o.publish_seconds)] if o.publish_seconds else []))
        finally:
            reg.stop()
        # A freshly loaded database has no planner statistics until autovacuum gets to it: its
        # per-crate queries would scan every record (measured: 355 ms instead of 3 ms each).
        subprocess.run(["psql", o.postgres, "-qc", "ANALYZE"], check=True)
        keep(res, work)
    keys = json.load(open(os.path.join(work, "meta.json")))["keys"]
    # A project pins a few of a shared registry's auditors; the client asks for theirs only.
    trusted = keys[:o.trusted] if o.trusted else keys
    res["trusted_keys"] = len(trusted)
    names = lock_names(lock)
    reg = Registry(registry, o.postgres)
    try:
        res["restart_seconds"] = reg.started
        res["log_size"] = int(reg.checkpoint().splitlines()[1])
        pin = reg.get_json("/v1/log/key")
        size, recs, secs = answer_bytes(reg.url, names, trusted)
        res["answer"] = {"crates": len(names), "bytes": size, "records": recs, "first_seconds": secs}
        res["query"] = run([load, "query", reg.url, lock, str(o.clients), str(o.seconds), "100000",
                            ",".join(trusted)])
        relay = Relay(reg.url)
        fresh, warm, sizes = [], [], []
        for _ in range(o.runs):
            cache = tempfile.mkdtemp(dir=work)
            args = [reader, relay.url, pin["origin"], pin["key"], ",".join(trusted), lock, "per-crate",
                    cache]
            fresh.append(run(args)["seconds"])
            sizes.append(relay.take())
            warm.append(run(args)["seconds"])
            relay.take()
        res["fresh"] = {"bytes": statistics.median(sizes), "seconds": statistics.median(fresh)}
        res["warm"] = {"seconds": statistics.median(warm)}
    finally:
        reg.stop()
    keep(res, work)
    if o.static:
        res["static"] = static_read(registry, reader, o, pin, trusted, lock)
        keep(res, work)
    res["baseline"] = baseline(registry, load, reader, lock, o.runs)
    if not o.keep_db and not o.skip_load:
        subprocess.run(["dropdb", *conn, "--if-exists", dbname], check=True)
    report(res, o)


class Files(http.server.SimpleHTTPRequestHandler):
    """A file server keeping connections open (as a CDN does), counting the files served."""

    protocol_version = "HTTP/1.1"
    served = 0

    def log_message(self, *args):
        Files.served += 1


def static_read(registry, reader, o, pin, trusted, lock):
    """Exports the log and reads the lockfile per crate from the export over HTTP."""
    out = os.path.join(o.work_dir, "export")
    shutil.rmtree(out, ignore_errors=True)
    first = time.monotonic()
    subprocess.run([registry, "export", out, "--db", o.postgres], check=True,
                   capture_output=True)
    first = time.monotonic() - first
    again = time.monotonic()
    subprocess.run([registry, "export", out, "--db", o.postgres], check=True,
                   capture_output=True)
    again = time.monotonic() - again
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Files, directory=out))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    relay = Relay(f"http://127.0.0.1:{server.server_address[1]}")
    fresh, warm, sizes, files = [], [], [], []
    try:
        for _ in range(o.runs):
            cache = tempfile.mkdtemp(dir=o.work_dir)
            Files.served = 0
            args = [reader, relay.url, pin["origin"], pin["key"], ",".join(trusted), lock,
                    "static", cache]
            fresh.append(run(args)["seconds"])
            sizes.append(relay.take())
            files.append(Files.served)
            warm.append(run(args)["seconds"])
            relay.take()
    finally:
        server.shutdown()
    return {"export_seconds": first, "export_again_seconds": again,
            "bytes": statistics.median(sizes), "files": statistics.median(files),
            "seconds": statistics.median(fresh), "warm_seconds": statistics.median(warm)}


def baseline(registry, load, reader, lock, runs):
    """Today's whole-log sync of a registry of about 10,000 records, fresh cache each run."""
    with tempfile.TemporaryDirectory() as tmp:
        db = "sqlite://" + os.path.join(tmp, "baseline.db")
        token = subprocess.run([registry, "admin-token", "new", "bench", "--db", db],
                               capture_output=True, text=True, check=True).stdout.strip()
        reg = Registry(registry, db)
        try:
            seed = run([load, "seed", reg.url, token, lock, "12", "100"])
            pin = reg.get_json("/v1/log/key")
            relay = Relay(reg.url)
            times, sizes = [], []
            for _ in range(runs):
                cache = tempfile.mkdtemp(dir=tmp)
                out = run([reader, relay.url, pin["origin"], pin["key"], ",".join(seed["keys"]),
                           lock, "whole", cache])
                times.append(out["seconds"])
                sizes.append(relay.take())
        finally:
            reg.stop()
    return {"records": seed["records"], "bytes": statistics.median(sizes),
            "seconds": statistics.median(times)}


def report(r, o):
    with open(os.path.join(o.work_dir, "result.json"), "w", encoding="utf-8") as f:
        json.dump(r, f, indent=1)
    if not o.markdown:
        print(json.dumps(r, indent=1))
    b, f = r["baseline"], r["fresh"]
    q, a = r["query"], r["answer"]
    rows = [("log size (records in the measured log)", f"{r['log_size']:,}", ""),
            ("restart: spawn to a proof answer (the whole log replayed from the database, "
             "its crate index built)", f"{r['restart_seconds']:.1f} s", "")]
    if "load" in r:
        ld = r["load"]
        g = ld["checkpoint_gaps"]
        rows += [("appends, sustained", f"{ld['records_per_second']:,.0f} records/s "
                  f"({ld['records']:,} in {ld['seconds']:.0f} s, {ld['publishes']:,} publishes)", ">= 5,000/s"),
                 ("checkpoint spacing (100 ms polls of GET /v1/log/checkpoint)",
                  f"median {g['median_s']:.2f} s, p99 {g['p99_s']:.2f} s, max {g['max_s']:.2f} s", ""),
                 *([("checkpoint spacing (between acknowledged publishes, each committed with "
                     "a new checkpoint)", "median {median_s:.2f} s, p99 {p99_s:.2f} s, max {max_s:.2f} s, "
                     "{over} over 1 s".format(over=ld["acknowledgement_gaps"].get("over_1s", "?"),
                                              **ld["acknowledgement_gaps"]), "<= 1 s")]
                   if "acknowledgement_gaps" in ld else []),
                 ("ms per publish, first to last tenth of the load",
                  " / ".join(f"{t['ms_per_publish']:.0f}" for t in ld["tenths"]), "")]
    rows += [("auditors the client pins", f"{r['trusted_keys']} of {r.get('auditors', '?')}", ""),
             ("batch answer (POST /v1/crates, crates-io lockfile)",
              f"{a['bytes'] / 1e6:.2f} MB, {a['records']:,} records, {a['crates']} crates", "<= 1 MB"),
             (f"batch answer at {q['clients']} clients", f"p50 {q['p50_ms']:.0f} ms, p99 {q['p99_ms']:.0f} ms "
              f"({q['requests']} requests, {q.get('answers_built_by_server', '?')} built by the server, "
              f"{q.get('answer_bytes_on_the_wire', 0) / 1e6:.2f} MB each on the wire)", "p99 <= 50 ms"),
             ("client check (gate_read per-crate), warm", f"{r['warm']['seconds'] * 1000:.0f} ms", "<= 50 ms"),
             ("fresh runner (gate_read per-crate, empty cache)",
              f"{f['bytes'] / 1e6:.2f} MB, {f['seconds']:.2f} s", "<= 2 MB"),
             (f"baseline: whole-log sync of {b['records']:,} records",
              f"{b['bytes'] / 1e6:.2f} MB, {b['seconds']:.2f} s", ""),
             ("fresh runner / baseline", f"{f['bytes'] / b['bytes']:.2f}x bytes, "
              f"{f['seconds'] / b['seconds']:.2f}x time", "time <= 1.0x")]
    if "static" in r:
        s = r["static"]
        rows += [("static export of the log (`audit-registry export`), first run / nothing new",
                  f"{s['export_seconds']:.1f} s / {s['export_again_seconds']:.1f} s", "the full log exports"),
                 ("fresh runner on the static export (gate_read static, empty cache, no gzip)",
                  f"{s['bytes'] / 1e6:.2f} MB, {s['files']:.0f} files, {s['seconds']:.2f} s", "reads only what it needs"),
                 ("the same, warm", f"{s['warm_seconds'] * 1000:.0f} ms", ""),
                 ("static fresh runner / baseline", f"{s['bytes'] / b['bytes']:.2f}x bytes, "
                  f"{s['seconds'] / b['seconds']:.2f}x time", "")]
    if o.markdown:
        print("| measure | result | target |")
        print("| --- | --- | --- |")
        for m, v, t in rows:
            print(f"| {m} | {v} | {t} |")
    else:
        for m, v, t in rows:
            print(f"{m}: {v}" + (f"  (target {t})" if t else ""))


if __name__ == "__main__":
    main()
