"""findings.md: what the grid shows, in plain words and numbers with their intervals, next to what
the study reports. Every claim gets a verdict by a stated rule (selfdistill.reporting.claims)."""
from __future__ import annotations

import pandas as pd

from selfdistill.data.coverage import LEVELS
from selfdistill.evaluation.per_benchmark import benchmark_markdown
from selfdistill.evaluation.uncertainty import LEVEL, REPLICATES
from selfdistill.reporting.intervention import ARMS, REFERENCES, RULE, claim
from selfdistill.reporting.verdicts import NOT_TESTED, Verdict

POOLED_RULE = ("Pooled: each interval resamples the base models, then the training seeds within each drawn "
               "base, then its problems, every cell paired with its own base model on the same problems; the "
               "pooled verdict applies the claim's rule to that interval, so a claim holds pooled only if it "
               "survives the spread between base models. Each base's verdict applies the same rule to its own "
               "cells alone.")

COLUMNS = (("accuracy", "ood", "OOD acc"), ("accuracy", "in_domain", "in-domain acc"),
           ("accuracy", "seen", "seen acc"), ("mean_length", "ood", "OOD length"),
           ("mean_epistemic", "ood", "OOD epistemic"))

PREMISES = {
    "arith": [
        "**Built into the arithmetic world (premises, not findings):** a verbalized doubt starts a recount that",
        "catches a slip, so doubts do work (banning the ten words costs accuracy: `base_model.json`); slips that",
        "no doubt catches stay, so unguided accuracy is imperfect and lower on longer (OOD) chains; and the",
        "teacher behaviour of the study's Table 1: shown a full solution with its checks the model copies it with",
        "no doubt, shown a solution without checks (regen) it works some hard steps out itself, shown only the",
        "final answer (s_nothink) it catches more of its slips and doubts its right steps less. The Table 1 rows",
        "below check that the pretrained model learned these premises.",
        "",
        "**Tested by the run (outcomes):** whether self-distillation passes the teacher's confidence on to the",
        "unguided student (fewer epistemic words, shorter responses), whether that costs OOD accuracy, whether",
        "GRPO avoids it, how task coverage changes it, and whether SFT on solution-guided traces does the same.",
        ""],
}


def final_changes(changes: pd.DataFrame) -> pd.DataFrame:
    """Rows (coverage, method), one column per COLUMNS entry: the final checkpoint's change from
    the base with its interval, as text (`changes`: grid_summary.change_frame)."""
    last = changes[changes["step"] == changes.groupby(["method", "coverage"])["step"].transform("max")]
    out = {}
    for metric, split, label in COLUMNS:
        part = last[(last["metric"] == metric) & (last["split"] == split)].set_index(["coverage", "method"])
        digits = 3 if metric == "accuracy" else 2
        out[label] = part.apply(lambda r: f"{r['change']:+.{digits}f} [{r['low']:+.{digits}f}, "
                                          f"{r['high']:+.{digits}f}]", axis=1)
    table = pd.DataFrame(out).reset_index()
    table["order"] = table["coverage"].map({c: i for i, c in enumerate(LEVELS)})
    return table.sort_values(["order", "method"]).drop(columns="order")


def base_values(df: pd.DataFrame) -> pd.DataFrame:
    """The base model's values (step 0) per coverage (and base model, where there are several),
    with standard errors over problems."""
    keys = ["base", "coverage"] if "base" in df and df["base"].nunique() > 1 else ["coverage"]
    base = df[df["step"] == 0].drop_duplicates([*keys, "split"])
    out = {}
    for metric, split, label in COLUMNS:
        rows = base[base["split"] == split].set_index(keys)
        out[label] = rows.apply(lambda r: f"{r[metric]:.3f} +- {r[metric + '_se']:.3f}", axis=1)
    return pd.DataFrame(out)


def claim_lines(verdicts: list[Verdict], per_base: dict[int, list[Verdict]] | None = None) -> list[str]:
    """The claims table: with several base models, the pooled verdict and then each base's."""
    bases = per_base if per_base and len(per_base) > 1 else {}
    head = "verdict" if not bases else "pooled | " + " | ".join(f"base {b}" for b in bases)
    lines = [f"| claim | {head} | measured: estimate [95% interval] |", "|---|---|" + "---|" * (len(bases) + 1)]
    for i, v in enumerate(verdicts):
        each = "".join(f" {found[i].verdict} |" for found in bases.values())
        lines.append(f"| {v.claim} | **{v.verdict}** |{each} {v.measured} |")
    rules = dict.fromkeys(v.rule for v in verdicts if v.rule)
    out = lines + ["", "Rules, as applied above:", ""] + [f"- {r}" for r in rules] + [""]
    if bases:
        out += [POOLED_RULE, ""]
    return out


def probe_lines(probe: pd.DataFrame) -> list[str]:
    """The mechanism: the teacher's probability of the student's epistemic words by richness."""
    head = ["## Why: the teacher's view of the student's doubts", ""]
    if probe.empty:
        return head + ["The unguided student's Section 3 traces hold no epistemic word, so there is nothing to probe.", ""]
    # the mean over base models where the table has several
    by = probe.groupby(["word", "richness"])["mean_probability"].mean()
    levels = list(dict.fromkeys(probe["richness"]))
    said = "; ".join(f'"{w}" ' + ", ".join(f"{lv} {by.loc[(w, lv)]:.3f}" for lv in levels)
                     for w in ("wait", "hmm") if (w, levels[0]) in by.index)
    return head + [
        "Where the unguided student (Section 3, c = none) wrote an epistemic word, the mean probability",
        "the same model gives that word once its context holds each richness level. The words that open a",
        f"doubt: {said or 'none written'}. Self-distillation pulls the student toward these probabilities at",
        "exactly those tokens; words inside a doubt that is already under way keep their probability.", "",
        probe.to_markdown(index=False, floatfmt=".3f"), ""]


def intervention_lines(verdicts: list[Verdict], changes: pd.DataFrame) -> list[str]:
    """Is suppressed doubt the cause? The intervention arms' verdicts (picked from `verdicts`, all
    the grid's) and their changes beside sdpo_s's and grpo's."""
    head = ["## Is suppressed doubt the cause?", ""]
    arms = {claim(arm) for arm in ARMS}
    verdicts = [v for v in verdicts if v.claim in arms]
    if all(v.verdict == NOT_TESTED for v in verdicts):
        return head + ["Not tested: the grid has no intervention arm (add sdpo_s_keepdoubt or sdpo_s_doubtful "
                       "to grid.methods).", ""]
    methods = [m for m in (*REFERENCES, *ARMS) if m in set(changes["method"])]
    table = final_changes(changes[changes["method"].isin(methods)])
    table = table[["coverage", "method", "OOD acc", "in-domain acc", "OOD epistemic"]]
    return head + [
        "SDPO with c = s in two forms that cannot take the student's doubt away: `sdpo_s_keepdoubt` (its",
        "distillation loss cannot move the probability of starting an epistemic word) and `sdpo_s_doubtful`",
        "(its teacher still doubts). If suppressed doubt is what costs OOD accuracy, an arm that keeps the",
        "epistemic count keeps the OOD accuracy too.", "",
        *[f"- **{v.verdict}**: {v.claim}. Measured: {v.measured}." for v in verdicts],
        "", f"Rule: {RULE}.", "", "Change from the base (final checkpoint, 95% interval):", "",
        table.to_markdown(index=False), ""]


def findings_markdown(df: pd.DataFrame, problems: pd.DataFrame, changes: pd.DataFrame, verdicts: list[Verdict],
                      probe: pd.DataFrame | None = None, world: str | None = None,
                      per_base: dict[int, list[Verdict]] | None = None) -> str:
    """`df`: grid_summary.grid_frame; `problems`: its problem_frame; `changes`: its change_frame;
    `verdicts`: claims.all_claims of the same grid; `per_base`: claims.claims_by_base, shown
    beside the pooled verdicts where there are several base models."""
    seeds = sorted(problems["seed"].unique())
    bases = sorted(problems["base"].unique()) if "base" in problems else [0]
    over = (f"training seeds {', '.join(map(str, seeds))}" if len(bases) == 1 else
            f"base models {', '.join(map(str, bases))} and training seeds {', '.join(map(str, seeds))} within each")
    resampled = "problems and seeds" if len(bases) == 1 else "base models, then seeds within each, then problems"
    lines = ["# Findings of the distillation grid", "",
             "Generated from `results/summary/grid.csv` and `grid_change.csv`: each cell's final checkpoint minus",
             f"its base model, over {over}, on the same problems. Intervals",
             f"are {LEVEL:.0%} paired bootstrap intervals ({REPLICATES} resamples of {resampled}). Accuracy",
             "is avg@k; length in tokens; epistemic count per response by the study's substring rule.", ""]
    lines += PREMISES.get(world, [])
    lines += ["## The study's claims, checked", ""] + claim_lines(verdicts, per_base)
    lines += ["## Base model (mean +- standard error over problems)", "",
              base_values(df).reset_index().to_markdown(index=False), "",
              "## Change from the base, per coverage level and method", "",
              final_changes(changes).to_markdown(index=False), ""]
    lines += intervention_lines(verdicts, changes)
    if probe is not None:
        lines += probe_lines(probe)
    return "\n".join(lines) + benchmark_markdown(changes)
