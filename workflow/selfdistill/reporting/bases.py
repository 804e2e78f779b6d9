"""bases.md: the base models of one run side by side (their Section 3 tables, testbed properties,
cost and every claim's verdict per base and pooled), to check that the study's findings do not
hang on one draw of world, base model and Section 3."""
from __future__ import annotations

import re

import pandas as pd

# a base's job names start with base<n> (workflow/rules/common.smk: BENCHMARKS)
BASE_JOB = re.compile(r"(?:^|/)base(\d+)(?:_|$)")


def base_table(summaries: dict[int, dict]) -> str:
    """Accuracy, OOD epistemic count and the ban's effect of each base model (base_model.json)."""
    rows = []
    for base, b in summaries.items():
        rows.append({"base": base,
                     **{f"{split} acc": f"{b[split]['accuracy']:.3f} +- {b[split]['accuracy_se']:.3f}"
                        for split in ("in_domain", "ood")},
                     "OOD epistemic": f"{b['ood']['mean_epistemic']:.2f}",
                     **{f"{split} ban effect": "{estimate:+.3f} [{low:+.3f}, {high:+.3f}]".format(**b[split]["ban_effect"])
                        for split in ("in_domain", "ood")}})
    return pd.DataFrame(rows).to_markdown(index=False)


def section3_table(richness: dict[int, pd.DataFrame]) -> str:
    """Each base's Table 1 analog (richness.csv), one row per (base, richness level)."""
    rows = [{"base": base, "c": r["richness"], "score": f"{r['score']:.3f} +- {r['score_se']:.3f}",
             "length": f"{r['mean_length']:.1f}", "epistemic": f"{r['mean_epistemic']:.2f}"}
            for base, table in richness.items() for _, r in table.iterrows()]
    return pd.DataFrame(rows).to_markdown(index=False)


def verdict_table(claims: pd.DataFrame) -> str:
    """Each claim's verdict per base and pooled (claims.csv), and the claims some base flips."""
    columns = [c for c in claims.columns if c.startswith("base ")]
    table = claims[["claim", *columns, "verdict"]].rename(columns={"verdict": "pooled"})
    flips = [r["claim"] for _, r in table.iterrows() if {"holds", "contradicted"} <= set(r[columns])]
    return (table.to_markdown(index=False) + "\n\nClaims that flip between holds and contradicted from base to "
            "base: " + ("; ".join(flips) if flips else "none") + ".")


def cost_table(jobs: pd.DataFrame) -> str:
    """Job-seconds per rule and base model (selfdistill.reporting.job_times.job_table), the jobs no
    base owns (the pooled summaries, a shared world or model) as `shared`."""
    owner = jobs["job"].map(lambda job: f"base {m.group(1)}" if (m := BASE_JOB.search(job)) else "shared")
    table = jobs.assign(owner=owner).pivot_table(index="rule", columns="owner", values="s", aggfunc="sum",
                                                 fill_value=0)
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index]
    table.loc["all jobs"] = table.sum()
    return table.round(0).astype(int).reset_index().to_markdown(index=False)


def bases_markdown(summaries: dict[int, dict], richness: dict[int, pd.DataFrame], claims: pd.DataFrame,
                   jobs: pd.DataFrame) -> str:
    return "\n".join([
        f"# The study at {len(summaries)} base models", "",
        "Written by rule `bases_summary` (`snakemake --cores all --configfile config/config.yaml config/bases.yaml`):",
        "each base model has its own world, pretraining, evaluations and Section 3, all seeded by its entry in",
        "`bases`; every pooled interval resamples base models, then training seeds, then problems.", "",
        "## Job-seconds per base model", "",
        "From Snakemake's benchmark file of every job; jobs run side by side, so the run's wall time is less.", "",
        cost_table(jobs), "",
        "## Base model (mean +- standard error; ban effect: banned minus normal accuracy, 95% interval)", "",
        base_table(summaries), "",
        "## Section 3 (Table 1 analog)", "", section3_table(richness), "",
        "## Verdicts per base model and pooled", "", verdict_table(claims), ""])
