"""Stage: the grid's tidy tables (evaluations; on-policy training logs), figures and findings.

Inputs are named by role and cell, fields joined by `__`: `eval__<method>__<coverage>__<seed>__
<checkpoint>__<split>`, `manifest__<method>__<coverage>__<seed>`, `base__<coverage>__<split>` and
`traces__<richness>` (Section 3's evaluations, for the Table 1 claims); `probe` is the teacher
probe's table, which findings.md quotes.
"""
from pathlib import Path

import pandas as pd

from selfdistill.io import read_json
from selfdistill.reporting.analysis import richness_problems
from selfdistill.reporting.claims import all_claims
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.grid_figures import plot_coverage, plot_curves, plot_intervention, plot_words
from selfdistill.reporting.grid_summary import change_frame, grid_frame, problem_frame, training_frame
from selfdistill.stages.cli import stage_run


def parse(inputs: dict[str, str]) -> tuple[dict, dict, dict, dict]:
    found = {"eval": {}, "manifest": {}, "base": {}, "traces": {}}
    for name, path in inputs.items():
        role, *key = name.split("__")
        if role not in found:
            raise SystemExit(f"input {name!r}: role {role!r} is not one of {', '.join(found)}")
        if role in ("eval", "manifest"):
            key[2] = int(key[2])
        found[role][tuple(key) if role != "traces" else key[0]] = read_json(path)
    return found["eval"], found["manifest"], found["base"], found["traces"]


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        inputs = dict(vars(inp))
        probe = pd.read_csv(inputs.pop("probe"))
        evals, manifests, base, traces = parse(inputs)
        problems = problem_frame(evals, manifests, base)
        df, changes = grid_frame(evals, manifests, base, problems), change_frame(problems)
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out.table, index=False, float_format="%.4g")
        changes.to_csv(out.changes, index=False, float_format="%.4g")
        training_frame(manifests).to_csv(out.training, index=False, float_format="%.4g")
        verdicts = all_claims(problems, richness_problems(traces))
        pd.DataFrame(verdicts).to_csv(out.claims, index=False)
        Path(out.findings).write_text(findings_markdown(df, problems, changes, verdicts, probe, params.get("world")))
        plot_curves(changes, out.curves)
        plot_coverage(changes, out.coverage)
        plot_words(df, out.words)
        plot_intervention(changes, out.intervention)


if __name__ == "__main__":
    main()
