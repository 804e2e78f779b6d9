#!/usr/bin/env bash
# The default study three times, with every seed of the world, base model, Section 3, coverage and
# evaluations set to 0 (the default), 1 and 2 (config/seed1.yaml, config/seed2.yaml), each from
# empty results in a scratch directory and timed with /usr/bin/time; then their Section 3 tables,
# base models and verdicts side by side (benchmarks/seeds.md). Run with nothing else busy.
# Usage: bash benchmarks/seed_runs.sh [seed ...]   (default: 0 1 2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/benchmarks/seeds"
work="${WORK:-$(mktemp -d)}"
mkdir -p "$out"
for seed in "${@:-0 1 2}"; do
    extra=()
    [ "$seed" != 0 ] && extra=(--configfile "$root/config/config.yaml" "$root/config/seed$seed.yaml")
    dir="$work/seed$seed"; mkdir -p "$dir" "$out/seed$seed"
    /usr/bin/time -f "seed$seed: %e s wall, %M KB max RSS" -o "$out/seed$seed/time.txt" \
        snakemake -s "$root/Snakefile" -d "$dir" --cores all "${extra[@]}" > "$dir.log" 2>&1
    echo "# $(date -u +%FT%TZ) $(nproc) cores, commit $(git -C "$root" rev-parse --short HEAD)" >> "$out/seed$seed/time.txt"
    for f in base_model.json richness.csv claims.csv findings.md grid_change.csv; do
        cp "$dir/results/summary/$f" "$out/seed$seed/$f"
    done
    python "$root/benchmarks/job_times.py" "$dir"/results/benchmarks > "$out/seed$seed/job_times.txt"
done
python "$root/benchmarks/compare_seeds.py" "$out" > "$root/benchmarks/seeds.md"
cat "$root/benchmarks/seeds.md"
