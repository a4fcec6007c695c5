#!/usr/bin/env bash
# Benchmark: `cargo audit-trust verify-sources` over a whole lockfile, compared with running
# `cargo audit-trust diff NAME@VERSION` once per package (what a user without verify-sources
# would script), on the same project, same caches, same run.
#
# Usage: bench/verify-sources.sh PROJECT [ROUNDS]
#   PROJECT  a folder with a Cargo.lock and a Cargo.audit. To measure against local mirrors,
#            give the Cargo.audit `[url-rewrite]` rules from each repository's URL to its mirror
#            (a bare repository on disk), e.g.
#              "https://github.com/BurntSushi/ripgrep" = "/work/.mirror/BurntSushi+ripgrep/repo"
#            Packages whose repository has no mirror are fetched from their remote.
#   ROUNDS   timed rounds per method (default 3); the median is reported.
# Environment: WORK (default /tmp/audit-trust-bench-verify-sources: the tool's cache folder,
# kept between runs), BIN (default: a release build of cargo-audit-trust in $CARGO_TARGET_DIR
# or target/).
#
# An untimed first run fills the caches (crate files, git repositories), so every timed run
# measures the steady state: list each repository's refs, fetch nothing new, compare every file.
# Its time is printed as "first". The methods run interleaved so they see the same machine load.
set -euo pipefail

project=$(cd "${1:?usage: bench/verify-sources.sh PROJECT [ROUNDS]}" && pwd)
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/audit-trust-bench-verify-sources}
target=${CARGO_TARGET_DIR:-$root/target}
bin=${BIN:-$target/release/cargo-audit-trust}
if [[ ! -x $bin ]]; then
    (cd "$root" && cargo build --release -p cargo-audit-trust)
fi
mkdir -p "$work"
lock="$project/Cargo.lock"
audit="$project/Cargo.audit"

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() { "$bin" --lockfile "$lock" --audit-file "$audit" --cache-dir "$work/cache" --quiet "$@"; }

start=$(now)
run verify-sources --format json >"$work/first.json" || true
first=$((($(now) - start) / 1000000))
mapfile -t packages < <(python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["packages"]:
    print(p["name"] + "@" + p["version"])' "$work/first.json")
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print("packages: {packages}, matches: {matches} ({matches_claimed_only} claimed only), "
      "differs: {differs}, unverifiable: {unverifiable}, errors: {errors}".format(**s))' "$work/first.json"

parallel=() serial=() per_diff=()
for _ in $(seq "$rounds"); do
    start=$(now); run verify-sources --format json >/dev/null || true; parallel+=($(($(now) - start)))
    start=$(now); run verify-sources --jobs 1 --format json >/dev/null || true; serial+=($(($(now) - start)))
    start=$(now)
    for p in "${packages[@]}"; do run diff "$p" --format json >/dev/null || true; done
    per_diff+=($(($(now) - start)))
done
ms() { printf '%s\n' "$@" | median | awk '{printf "%.0f", $1 / 1000000}'; }
p=$(ms "${parallel[@]}") s=$(ms "${serial[@]}") d=$(ms "${per_diff[@]}")
printf '%-40s %9s\n' method "median ms"
printf '%-40s %9s\n' "first verify-sources (fills the caches)" "$first"
printf '%-40s %9s\n' "verify-sources (--jobs 8)" "$p"
printf '%-40s %9s\n' "verify-sources --jobs 1" "$s"
printf '%-40s %9s\n' "diff once per package (${#packages[@]})" "$d"
awk -v p="$p" -v s="$s" -v d="$d" 'BEGIN {printf "ratio verify-sources / diff loop: %.2fx (--jobs 1: %.2fx)\n", p / d, s / d}'
