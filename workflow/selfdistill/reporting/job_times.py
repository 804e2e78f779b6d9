"""Time and memory per rule, from the benchmark file Snakemake writes for every job (each rule's
`benchmark:`, <folder>/<rule>.tsv or <folder>/<rule>/<job>.tsv)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on compute nodes
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402


def job_table(folder: Path, exclude: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per job: its rule (the first path part under `folder`), wall seconds, peak RSS in
    MB and CPU seconds, from Snakemake's benchmark columns; the rules in `exclude` left out."""
    rows = []
    for path in sorted(Path(folder).rglob("*.tsv")):
        rule = path.relative_to(folder).parts[0].removesuffix(".tsv")
        if rule in exclude:
            continue
        # a job that could not measure (too short, or no psutil) writes "-" or NA for memory and CPU
        bench = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        rows.append({"rule": rule, "job": str(path.relative_to(folder).with_suffix("")), "s": bench["s"].iloc[-1],
                     "max_rss": bench["max_rss"].iloc[-1], "cpu_time": bench["cpu_time"].iloc[-1]})
    if not rows:
        raise SystemExit(f"{folder}: no benchmark files (*.tsv); run the workflow first")
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """Jobs, total, mean and longest wall seconds, peak memory and CPU seconds per rule, largest
    total first. Snakemake samples a job's CPU time (every second at first, then every 30 s), so
    the last stretch of each job is missing from `cpu_s`: read it as a lower bound."""
    table = jobs.groupby("rule").agg(jobs=("s", "size"), total_s=("s", "sum"), mean_s=("s", "mean"),
                                     max_s=("s", "max"), max_rss_mb=("max_rss", "max"), cpu_s=("cpu_time", "sum"))
    return table.sort_values("total_s", ascending=False)


def format_table(jobs: pd.DataFrame) -> str:
    """`per_rule` as a fixed-width text table with a line for all jobs."""
    table = per_rule(jobs)
    w = max(22, *map(len, table.index))  # evaluate_cell_<method> runs long
    lines = [f"{'rule':{w}s} {'jobs':>4s} {'total s':>8s} {'mean s':>7s} {'max s':>6s} {'max MB':>7s} {'cpu s':>7s}"]
    for r in table.itertuples():
        lines.append(f"{r.Index:{w}s} {r.jobs:4d} {r.total_s:8.0f} {r.mean_s:7.0f} {r.max_s:6.0f} "
                     f"{r.max_rss_mb:7.0f} {r.cpu_s:7.0f}")
    lines.append(f"{'all jobs':{w}s} {len(jobs):4d} {jobs['s'].sum():8.0f}")
    return "\n".join(lines)


def plot_job_times(jobs: pd.DataFrame, path: str) -> None:
    """Total job seconds per rule, the jobs' count and mean in each label."""
    table = per_rule(jobs).reset_index()
    table["label"] = [f"{r.rule} ({r.jobs} x {r.mean_s:.0f} s)" for r in table.itertuples()]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(table) + 1.2))
    sns.barplot(table, y="label", x="total_s", color="steelblue", ax=ax)
    ax.set_xlabel(f"job seconds (all {len(jobs)} jobs: {jobs['s'].sum():.0f} s)")
    ax.set_ylabel("")
    ax.set_title("Where the run's time went, per rule")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
