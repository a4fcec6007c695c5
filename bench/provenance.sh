#!/usr/bin/env bash
# Benchmark: `cargo audit-trust diff` against a local bare repository, compared with the naive
# way of verifying a crate (unpack the tarball, `git archive` the commit's package folder into a
# temp dir, `diff -r` the two trees), on the same crates in the same run.
#
# Usage: bench/provenance.sh LIST [ROUNDS]
#   LIST    lines of `NAME VERSION REPOSITORY` (REPOSITORY: a local git repository, bare or not,
#           holding the crate's history; a relative path is taken below $REPOS); `#` starts a
#           comment. The `.crate` files are downloaded from static.crates.io into $WORK/crates
#           once.
#   ROUNDS  timed rounds per crate and method (default 10); the median is reported.
# Environment: REPOS (default .), WORK (default /tmp/audit-trust-bench-provenance), BIN (default:
# a release build of cargo-audit-trust in $CARGO_TARGET_DIR or target/).
#
# Both methods get the same inputs: a `.crate` on disk and a repository on local disk. `diff`
# runs with a warm git cache (its steady state: it lists the repository's refs and fetches
# nothing new). The untimed first run fills the cache ($WORK/cache, kept between runs of this
# script); its time is reported as "first" (a cold fetch of the whole history when the cache
# was empty).
set -euo pipefail

list=${1:?usage: bench/provenance.sh LIST [ROUNDS]}
rounds=${2:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-/tmp/audit-trust-bench-provenance}
target=${CARGO_TARGET_DIR:-$root/target}
bin=${BIN:-$target/release/cargo-audit-trust}
if [[ ! -x $bin ]]; then
    (cd "$root" && cargo build --release -p cargo-audit-trust)
fi
mkdir -p "$work/crates"

now() { date +%s%N; }

# Median of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The naive verification of one crate: unpack, archive the commit, compare the trees.
naive() {
    local name=$1 version=$2 crate=$3 repo=$4
    local tmp
    tmp=$(mktemp -d)
    mkdir "$tmp/published" "$tmp/git"
    tar -xzf "$crate" -C "$tmp/published"
    local info="$tmp/published/$name-$version/.cargo_vcs_info.json"
    local sha path
    sha=$(sed -n 's/.*"sha1": *"\([0-9a-f]*\)".*/\1/p' "$info")
    path=$(sed -n 's/.*"path_in_vcs": *"\([^"]*\)".*/\1/p' "$info")
    git --git-dir="$(git -C "$repo" rev-parse --absolute-git-dir)" archive "$sha" ${path:+"$path"} |
        tar -x -C "$tmp/git"
    diff -r -q "$tmp/published/$name-$version" "$tmp/git/${path:-.}" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}

ours() {
    local name=$1 version=$2 crate=$3 repo=$4
    "$bin" diff "$name@$version" --crate-file "$crate" --repo "$repo" \
        --cache-dir "$work/cache" --format json --quiet >/dev/null || true
}

printf '%-16s %-9s %7s %9s %9s %7s %s\n' crate version files "diff ms" "naive ms" ratio verdict
total_ours=0
total_naive=0
while read -r name version repo; do
    [[ -z ${name:-} || $name == \#* ]] && continue
    [[ $repo == /* ]] || repo="${REPOS:-.}/$repo"
    crate="$work/crates/$name-$version.crate"
    [[ -f $crate ]] || curl -sSfL -o "$crate" "https://static.crates.io/crates/$name/$name-$version.crate"
    start=$(now)
    verdict=$("$bin" diff "$name@$version" --crate-file "$crate" --repo "$repo" \
        --cache-dir "$work/cache" --format json --quiet |
        sed -n 's/^  "verdict": "\(.*\)",$/\1/p') || true
    first=$((($(now) - start) / 1000000))
    files=$(tar -tzf "$crate" | grep -vc '/$')
    ours_times=() naive_times=()
    for _ in $(seq "$rounds"); do
        # Interleaved, so both methods see the same machine load.
        start=$(now); ours "$name" "$version" "$crate" "$repo"; ours_times+=($(($(now) - start)))
        start=$(now); naive "$name" "$version" "$crate" "$repo"; naive_times+=($(($(now) - start)))
    done
    o=$(printf '%s\n' "${ours_times[@]}" | median)
    n=$(printf '%s\n' "${naive_times[@]}" | median)
    total_ours=$(awk -v a="$total_ours" -v b="$o" 'BEGIN {print a + b}')
    total_naive=$(awk -v a="$total_naive" -v b="$n" 'BEGIN {print a + b}')
    awk -v name="$name" -v version="$version" -v files="$files" -v o="$o" -v n="$n" \
        -v verdict="$verdict" -v first="$first" \
        'BEGIN {printf "%-16s %-9s %7d %9.1f %9.1f %6.2fx %s (first: %d ms)\n",
                name, version, files, o / 1e6, n / 1e6, o / n, verdict, first}'
done <"$list"
awk -v o="$total_ours" -v n="$total_naive" \
    'BEGIN {printf "\ntotal (sum of medians): diff %.1f ms, naive %.1f ms, ratio %.2fx\n",
            o / 1e6, n / 1e6, o / n}'
