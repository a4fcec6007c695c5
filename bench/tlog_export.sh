#!/usr/bin/env bash
# The static export of a large transparency log, first run against a run after a small publish
# (docs/performance.md, "Static export of the log"). A release audit-registry on SQLite is filled
# by `registry_load fill` (RECORDS sign-offs by AUDITORS keys, 1,000 per publish); then
# `audit-registry export` runs three times: into an empty folder, again with nothing new, and
# after a publish of 20 records. Wall time and peak memory come from GNU time.
#
# Usage: bench/tlog_export.sh [RECORDS] [AUDITORS]   (default 1000000 100)
#
# To compare two builds on the same log (filling a million records takes about 9 minutes):
#   FILLED_DB=/var/tmp/tlog1m.db    the filled database is copied there after the first fill,
#                                   and copied from there (no fill) when it exists;
#   REGISTRY_BIN=… LOAD_BIN=…       the binaries to run (default: built here, release).
set -euo pipefail
records=${1:-1000000}
auditors=${2:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
if [ -z "${REGISTRY_BIN:-}" ] || [ -z "${LOAD_BIN:-}" ]; then
    cargo build --release -p audit-registry --bin audit-registry --example registry_load >&2
fi
registry=${REGISTRY_BIN:-$target/release/audit-registry}
load=${LOAD_BIN:-$target/release/examples/registry_load}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="sqlite://$work/registry.db"
if [ -n "${FILLED_DB:-}" ] && [ -f "$FILLED_DB" ]; then
    for f in "$FILLED_DB"*; do cp "$f" "$work/registry.db${f#"$FILLED_DB"}"; done
fi
token=$("$registry" admin-token new "fill$(date +%s%N)" --db "$db")

# Serves the database while `registry_load fill` publishes, then stops.
fill() {
    RUST_LOG=warn "$registry" serve --listen 127.0.0.1:0 --db "$db" --rate-per-minute 0 \
        >"$work/serve.out" 2>/dev/null &
    local pid=$!
    local url=""
    for _ in $(seq 100); do
        url=$(sed -n 's/^listening on //p' "$work/serve.out")
        [ -n "$url" ] && break
        sleep 0.1
    done
    "$load" fill "$url" "$token" "$1" "$2" "$3"
    kill "$pid"
    wait "$pid" || true
}

run() {
    echo "== export: $1"
    /usr/bin/time -f "wall %e s, max RSS %M KB" "$registry" export "$work/export" --db "$db"
}

if [ -z "${FILLED_DB:-}" ] || [ ! -f "$FILLED_DB" ]; then
    fill "$records" "$auditors" 1000
    if [ -n "${FILLED_DB:-}" ]; then
        # With its write-ahead log, if one is left.
        for f in "$work"/registry.db*; do cp "$f" "$FILLED_DB${f#"$work/registry.db"}"; done
    fi
fi
run "first, into an empty folder"
run "again, nothing new"
fill 20 1 20
run "after a publish of 20 records"
du -sh "$work/export/tlog" "$work/export/v1" "$work/registry.db"
