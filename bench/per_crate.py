#!/usr/bin/env python3
"""Per-crate reading against whole-log sync (issue 12, "the gate reads per crate").

An `audit-registry` on SQLite is seeded by `registry_load seed` (audit-registry/examples):
AUDITORS auditors each sign off every registry package of the crates-io workload (850), so the
registry holds AUDITORS x 850 records. A consumer trusts all of them (`covers = ["*"]`) and reads
them the way `check` does (`gate_read`, audit-registry/examples/gate_read.rs, which calls the same
core function) with an empty cache each run, as a fresh CI runner:

  whole      the registry unpinned: every auditor's whole log synced and verified;
  per-crate  its log pinned: one `POST /v1/crates` for the lockfile's crates, with proofs.

For two lockfiles: ripgrep's (52 registry packages, a project smaller than the registry) and
crates-io's (850, every crate the registry has). Bytes are counted by a relay between client
and registry (both directions, HTTP headers included); time is gate_read's wall clock around
the read (median of RUNS). Ratios are per-crate / whole, measured in the same run.

Usage: bench/per_crate.py [--shared DIR] [--auditors N] [--runs N] [--debug] [--markdown]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(debug):
    profile = [] if debug else ["--release"]
    subprocess.run(["cargo", "build", *profile, "-p", "audit-registry", "--bin", "audit-registry",
                    "--example", "registry_load", "--example", "gate_read"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    out = os.path.join(target, "debug" if debug else "release")
    return (os.path.join(out, "audit-registry"), os.path.join(out, "examples", "registry_load"),
            os.path.join(out, "examples", "gate_read"))


class Relay:
    """A loopback TCP relay to `upstream` that counts the bytes through it."""

    def __init__(self, upstream):
        host, port = upstream.rsplit("//", 1)[1].split(":")
        self.upstream = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.bytes = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            # Without this, Nagle's algorithm meets the peer's delayed ACK on every small write
            # the relay forwards: a streamed answer then crawls (21 s instead of 3 s for the
            # whole-log sync of 3,400 records), and the relay, not the client, is measured.
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, src, dst):
        try:
            while data := src.recv(65536):
                with self.lock:
                    self.bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def take(self):
        time.sleep(0.2)  # the last pumps finish after the client exits
        with self.lock:
            n, self.bytes = self.bytes, 0
        return n


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"{os.path.basename(cmd[0])} failed: {out.stderr.strip()}")
    return json.loads(out.stdout) if out.stdout.strip().startswith("{") else out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shared", default=os.path.join(ROOT, "..", "shared"))
    p.add_argument("--auditors", type=int, default=4)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--debug", action="store_true", help="the debug build (no release build)")
    p.add_argument("--markdown", action="store_true")
    opts = p.parse_args()
    locks = {w: os.path.join(opts.shared, "workloads", w, "Cargo.lock") for w in ("ripgrep", "crates-io")}
    for lock in locks.values():
        if not os.path.exists(lock):
            sys.exit(f"no workload at {lock}: pass --shared DIR")
    registry, tool, reader = build(opts.debug)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = "sqlite://" + os.path.join(tmp, "bench.db")
        token = subprocess.run([registry, "admin-token", "new", "bench", "--db", db],
                               capture_output=True, text=True, check=True).stdout.strip()
        proc = subprocess.Popen([registry, "serve", "--listen", "127.0.0.1:0", "--db", db,
                                 "--rate-per-minute", "0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "RUST_LOG": "warn"})
        try:
            line = proc.stdout.readline().strip()
            if not line.startswith("listening on "):
                sys.exit(f"audit-registry did not start: {line!r}")
            url = line[len("listening on "):]
            seed = run([tool, "seed", url, token, locks["crates-io"], str(opts.auditors), "100"])
            pin = json.loads(subprocess.run(["curl", "-sf", url + "/v1/log/key"], capture_output=True,
                                            text=True, check=True).stdout)
            relay = Relay(url)
            for workload, lock in locks.items():
                for mode in ("whole", "per-crate"):
                    times, sizes, accepted = [], [], None
                    for _ in range(opts.runs):
                        cache = tempfile.mkdtemp(dir=tmp)
                        out = run([reader, relay.url, pin["origin"], pin["key"], ",".join(seed["keys"]),
                                   lock, mode, cache])
                        times.append(out["seconds"])
                        sizes.append(relay.take())
                        accepted = out["accepted"]
                    rows.append({"workload": workload, "crates": out["crates"], "mode": mode,
                                 "records": seed["records"], "accepted": accepted,
                                 "bytes": statistics.median(sizes),
                                 "seconds": statistics.median(times)})
        finally:
            proc.kill()
            proc.wait()
    report(rows, opts)


def report(rows, opts):
    build = "debug" if opts.debug else "release"
    if opts.markdown:
        print(f"| lockfile | registry records | mode | records read | bytes | seconds ({build}) | ratio (bytes, time) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
    base = {}
    for r in rows:
        key = r["workload"]
        if r["mode"] == "whole":
            base[key] = r
            ratio = "baseline"
        else:
            b = base[key]
            ratio = f"{r['bytes'] / b['bytes']:.3f}x, {r['seconds'] / b['seconds']:.2f}x"
        if opts.markdown:
            print(f"| {r['workload']} ({r['crates']} crates) | {r['records']} | {r['mode']} | "
                  f"{r['accepted']} | {r['bytes'] / 1024:.0f} KB | {r['seconds']:.3f} | {ratio} |")
        else:
            print(json.dumps({**r, "ratio": ratio}))


if __name__ == "__main__":
    main()
