"""Time and memory per rule from the benchmark files Snakemake writes for every job
(selfdistill.reporting.job_times), as a text table: jobs, total, mean and longest wall time, peak
memory and CPU seconds (sampled by Snakemake, a lower bound), largest total first.
Usage: python benchmarks/job_times.py [results/benchmarks]"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from selfdistill.reporting.job_times import format_table, job_table  # noqa: E402

if __name__ == "__main__":
    print(format_table(job_table(Path(sys.argv[1] if len(sys.argv) > 1 else "results/benchmarks"))))
