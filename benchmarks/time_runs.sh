#!/usr/bin/env bash
# Wall time of the three runs a newcomer meets: the dry run of the default config, the test
# config end to end, and the default config end to end, each from empty results in a scratch
# copy of the workflow. Usage: bash benchmarks/time_runs.sh [outfile]  (run with nothing else
# busy on the machine; the numbers depend on core count).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/benchmarks/timings.txt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() {  # name, then snakemake arguments
    local name="$1"; shift
    local dir="$work/$name"; mkdir -p "$dir"
    /usr/bin/time -f "$name: %e s wall, %M KB max RSS" -a -o "$out" \
        snakemake -s "$root/Snakefile" -d "$dir" "$@" > "$dir.log" 2>&1
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(git -C "$root" rev-parse --short HEAD)" >> "$out"
run dry_run_default -n --cores all
run test_config --cores all --configfile "$root/config/test.yaml"
run default_config --cores all
cp "$work/default_config/results/summary/base_model.json" "$root/benchmarks/last_base_model.json"
cp "$work/default_config/results/summary/richness.csv" "$root/benchmarks/last_richness.csv"
tail -n 4 "$out"
