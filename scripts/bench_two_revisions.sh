#!/usr/bin/env bash
# Time a full recompute of one warehouse with two revisions of the code, one after the other, and compare
# their marts (docs/benchmarks.md, "The rating chain keyed by basis"). Run from the repository root:
#
#     scripts/bench_two_revisions.sh REF_REV CANDIDATE_REV LANDING WAREHOUSE [COMPARE_MARTS_OPTIONS…]
#
# e.g. after `.venv/bin/vipwh bench --holders 1000000 --workdir /tmp/bench`:
#     scripts/bench_two_revisions.sh main HEAD /tmp/bench/holders-1000000/landing /tmp/bench/holders-1000000/warehouse.duckdb
#
# Each revision runs from its own git worktree (under a temporary folder) with this checkout's venv, its
# modules first on PYTHONPATH. Prints wall time and peak RSS of each build, then scripts/compare_marts.py.
set -euo pipefail
ref_rev=$1 cand_rev=$2 landing=$(realpath "$3") warehouse=$(realpath -m "$4")
shift 4  # the rest goes to scripts/compare_marts.py (e.g. --schemas marts,quality,rules)
repo=$(pwd)
bin=$repo/.venv/bin
work=$(mktemp -d)
trap 'git -C "$repo" worktree remove --force "$work/ref" 2>/dev/null; git -C "$repo" worktree remove --force "$work/cand" 2>/dev/null; rm -rf "$work"' EXIT
git worktree add --detach -q "$work/ref" "$ref_rev"
git worktree add --detach -q "$work/cand" "$cand_rev"
published=$(dirname "$warehouse")/$(basename "$warehouse" .duckdb).published

build() {  # build NAME TREE
    (cd "$2" && PYTHONPATH="$2" /usr/bin/time -f "$1: wall %e s, peak RSS %M KiB" \
        "$bin/vipwh" build --landing "$landing" --warehouse "$warehouse" --full-refresh --quiet)
}

build "$ref_rev" "$work/ref"
cp "$published/$(cat "$published/CURRENT")" "$work/ref_snapshot.duckdb"
build "$cand_rev" "$work/cand"
"$bin/python" scripts/compare_marts.py "$work/ref_snapshot.duckdb" "$published/$(cat "$published/CURRENT")" "$@" | grep -v "  equal$"
