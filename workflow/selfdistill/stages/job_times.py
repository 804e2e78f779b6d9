"""Stage: time and memory per rule of the run so far, from every job's benchmark file.

Its inputs are the summaries, so it runs after every job they need; it reads the benchmark
folder named in its settings, its own rule's file left out."""
from pathlib import Path

from selfdistill.reporting.job_times import job_table, per_rule, plot_job_times
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        jobs = job_table(Path(params["benchmarks"]), exclude=tuple(params["exclude"]))
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        per_rule(jobs).to_csv(out.table, float_format="%.4g")
        plot_job_times(jobs, out.figure)


if __name__ == "__main__":
    main()
