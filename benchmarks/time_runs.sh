#!/usr/bin/env bash
# Wall time of the runs a newcomer meets: the dry run of the default config, the test config end
# to end, the default config through the Section 3 figure and the default config end to end, each
# from empty results in a scratch directory. Copies the default run's summaries and per-job times
# here. Usage: bash benchmarks/time_runs.sh [outfile]  (run with nothing else
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
run default_through_section3 --cores all results/summary/base0/base_model.json results/summary/base0/richness.csv
run default_config --cores all
for f in base_model.json richness.csv teacher_probe.csv grid.csv findings.md; do
    cp "$work/default_config/results/summary/$f" "$root/benchmarks/default_$f"
done
python "$root/benchmarks/job_times.py" "$work"/default_config/results/benchmarks > "$root/benchmarks/default_job_times.txt"
tail -n 5 "$out"
