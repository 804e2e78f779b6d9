"""Time and memory per rule from the benchmark files Snakemake writes for every job (each rule's
`benchmark:`, results/benchmarks/<rule>.tsv or results/benchmarks/<rule>/<job>.tsv): jobs, total,
mean and longest wall time, peak memory, largest total first.
Usage: python benchmarks/job_times.py [results/benchmarks]"""
import sys
from pathlib import Path

import pandas as pd


def job_table(folder: Path) -> pd.DataFrame:
    """One row per job: its rule (the first path part under `folder`), wall seconds, peak RSS in
    MB and CPU seconds, from Snakemake's benchmark columns."""
    files = sorted(folder.rglob("*.tsv"))
    if not files:
        raise SystemExit(f"{folder}: no benchmark files (*.tsv); run the workflow first")
    rows = []
    for path in files:
        # a job that could not measure (too short, or no psutil) writes "-" for memory and CPU
        bench = pd.read_csv(path, sep="\t", na_values="-")
        rows.append({"rule": path.relative_to(folder).parts[0].removesuffix(".tsv"), "s": bench["s"].iloc[-1],
                     "max_rss": bench["max_rss"].iloc[-1], "cpu_time": bench["cpu_time"].iloc[-1]})
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    table = jobs.groupby("rule").agg(jobs=("s", "size"), total_s=("s", "sum"), mean_s=("s", "mean"),
                                     max_s=("s", "max"), max_rss_mb=("max_rss", "max"),
                                     cpu_s=("cpu_time", "sum"))
    return table.sort_values("total_s", ascending=False)


def main(folder: str = "results/benchmarks") -> None:
    jobs = job_table(Path(folder))
    table = per_rule(jobs)
    w = max(22, *map(len, table.index))  # evaluate_cell_<method> runs long
    print(f"{'rule':{w}s} {'jobs':>4s} {'total s':>8s} {'mean s':>7s} {'max s':>6s} {'max MB':>7s} {'cpu s':>7s}")
    for r in table.itertuples():
        print(f"{r.Index:{w}s} {r.jobs:4d} {r.total_s:8.0f} {r.mean_s:7.0f} {r.max_s:6.0f} {r.max_rss_mb:7.0f} "
              f"{r.cpu_s:7.0f}")
    print(f"{'all jobs':{w}s} {len(jobs):4d} {jobs['s'].sum():8.0f}")


if __name__ == "__main__":
    main(*sys.argv[1:])
