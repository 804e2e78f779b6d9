"""Stage: the grid's tidy tables (evaluations; on-policy training logs), figures and findings.

Inputs are named by role and cell, fields joined by `__`: `eval__<method>__<coverage>__<seed>__
<checkpoint>__<split>`, `manifest__<method>__<coverage>__<seed>` and `base__<coverage>__<split>`;
`probe` (the teacher probe) and `richness` (the Table 1 analog) are the Section 3 tables findings.md
quotes.
"""
from pathlib import Path

import pandas as pd

from selfdistill.findings import findings_markdown
from selfdistill.grid_figures import plot_coverage, plot_curves, plot_words
from selfdistill.grid_summary import grid_frame, training_frame
from selfdistill.io import read_json
from selfdistill.stages.cli import stage_run


def parse(inputs: dict[str, str]) -> tuple[dict, dict, dict]:
    found = {"eval": {}, "manifest": {}, "base": {}}
    for name, path in inputs.items():
        role, *key = name.split("__")
        if role not in found:
            raise SystemExit(f"input {name!r}: role {role!r} is not one of {', '.join(found)}")
        if role in ("eval", "manifest"):
            key[2] = int(key[2])
        found[role][tuple(key)] = read_json(path)
    return found["eval"], found["manifest"], found["base"]


def main(argv=None):
    with stage_run(__doc__, argv) as (_, inp, out):
        inputs = dict(vars(inp))
        probe, richness = pd.read_csv(inputs.pop("probe")), pd.read_csv(inputs.pop("richness"))
        evals, manifests, base = parse(inputs)
        df = grid_frame(evals, manifests, base)
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out.table, index=False, float_format="%.4g")
        training_frame(manifests).to_csv(out.training, index=False, float_format="%.4g")
        Path(out.findings).write_text(findings_markdown(df, probe, richness))
        plot_curves(df, out.curves)
        plot_coverage(df, out.coverage)
        plot_words(df, out.words)


if __name__ == "__main__":
    main()
