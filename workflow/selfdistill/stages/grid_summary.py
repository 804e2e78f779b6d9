"""Stage: the grid's tidy tables (evaluations; on-policy training logs), figures and findings.

Inputs are named by role, base model and cell, fields joined by `__`: `eval__<base>__<method>__
<coverage>__<seed>__<checkpoint>__<split>`, `manifest__<base>__<method>__<coverage>__<seed>`,
`base__<base>__<coverage>__<split>` and `traces__<base>__<richness>` (Section 3's evaluations, for
the Table 1 claims); `probe__<base>` is the teacher probe's table, which findings.md quotes, and
`premises__<base>` the arithmetic world's premise table, whose rows lead the claims. With
several base models every change and verdict pools them, and each base's verdicts stand beside.
"""
from collections import defaultdict
from pathlib import Path

import pandas as pd

from selfdistill.io import read_json
from selfdistill.reporting.analysis import richness_problems
from selfdistill.reporting.claims import all_claims, claims_by_base, claims_table, front_table
from selfdistill.reporting.findings import findings_markdown
from selfdistill.reporting.premises import verdicts as premise_verdicts
from selfdistill.reporting.grid_figures import plot_coverage, plot_curves, plot_intervention, plot_words
from selfdistill.reporting.grid_summary import (change_frame, grid_frame, problem_frame, training_frame,
                                                with_bases)
from selfdistill.stages.cli import stage_run

ROLES = ("eval", "manifest", "base", "traces")


def parse(inputs: dict[str, str]) -> dict[int, dict]:
    """{base: {role: {key: the file's contents}, "probe" and "premises": their tables}}, bases in order."""
    found = defaultdict(lambda: {role: {} for role in ROLES})
    for name, path in inputs.items():
        role, base, *key = name.split("__")
        if role in ("probe", "premises"):
            found[int(base)][role] = pd.read_csv(path)
            continue
        if role not in ROLES:
            raise SystemExit(f"input {name!r}: role {role!r} is not one of probe, premises, {', '.join(ROLES)}")
        if role in ("eval", "manifest"):
            key[2] = int(key[2])
        found[int(base)][role][tuple(key) if role != "traces" else key[0]] = read_json(path)
    return dict(sorted(found.items()))


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        bases = parse(dict(vars(inp)))
        frames = {b: problem_frame(f["eval"], f["manifest"], f["base"]) for b, f in bases.items()}
        problems = with_bases(frames)
        df = with_bases({b: grid_frame(f["eval"], f["manifest"], f["base"], frames[b]) for b, f in bases.items()})
        richness = with_bases({b: richness_problems(f["traces"]) for b, f in bases.items()})
        probe = with_bases({b: f["probe"] for b, f in bases.items()})
        changes = change_frame(problems)
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out.table, index=False, float_format="%.4g")
        changes.to_csv(out.changes, index=False, float_format="%.4g")
        training = with_bases({b: training_frame(f["manifest"]) for b, f in bases.items()})
        training.to_csv(out.training, index=False, float_format="%.4g")
        verdicts = all_claims(problems, richness)
        # one base model's verdicts are the pooled ones: computed once
        per_base = claims_by_base(problems, richness) if len(bases) > 1 else {}
        pooled, each = premise_verdicts({b: f["premises"] for b, f in bases.items() if "premises" in f})
        claims = claims_table(pooled + verdicts, {b: each.get(b, []) + v for b, v in per_base.items()})
        claims.to_csv(out.claims, index=False)
        front_table(claims).to_csv(out.verdicts, index=False)
        findings = findings_markdown(df, problems, changes, verdicts, probe, params.get("world"), per_base)
        Path(out.findings).write_text(findings)
        plot_curves(changes, out.curves)
        plot_coverage(changes, out.coverage)
        plot_words(df, out.words)
        plot_intervention(changes, out.intervention)


if __name__ == "__main__":
    main()
