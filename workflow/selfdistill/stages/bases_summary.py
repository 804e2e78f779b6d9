"""Stage: results/summary/bases.md, the run's base models side by side.

Inputs: `summary__<base>` (base_model.json) and `richness__<base>` (richness.csv) of each base,
`claims` (claims.csv, with each base's verdict beside the pooled one) and `job_times` (its table,
so that this runs after every job); job-seconds per base are read from the benchmark folder named
in its settings."""
from pathlib import Path

import pandas as pd

from selfdistill.io import read_json
from selfdistill.reporting.bases import bases_markdown
from selfdistill.reporting.job_times import job_table
from selfdistill.stages.cli import stage_run


def per_base(inputs: dict[str, str], role: str, read) -> dict[int, object]:
    return {int(name.split("__")[1]): read(path) for name, path in sorted(inputs.items()) if name.startswith(f"{role}__")}


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        inputs = dict(vars(inp))
        jobs = job_table(Path(params["benchmarks"]), exclude=tuple(params["exclude"]))
        text = bases_markdown(per_base(inputs, "summary", read_json), per_base(inputs, "richness", pd.read_csv),
                              pd.read_csv(inputs["claims"]), jobs)
        Path(out.summary).write_text(text)


if __name__ == "__main__":
    main()
