"""Every claim of the study the grid can test, with its verdict (selfdistill.reporting.verdicts).

Each function returns the verdicts of one family of claims; a claim whose cells the grid lacks is
listed as not tested, so findings.md shows what the configured grid leaves open.
"""
from __future__ import annotations

import pandas as pd

from selfdistill.reporting.intervention import intervention
from selfdistill.reporting.verdicts import (NOT_TESTED, RULES, Grid, Verdict, below, combine, lower, near_zero, not_lower,
                       ordered)

TABLE1_ORDER = ["none", "s_nothink", "regen", "s"]


def table1(richness: pd.DataFrame | None) -> list[Verdict]:
    """Section 3 (Table 1): richer context, higher score, shorter, fewer epistemic words. In the
    arithmetic world this is a premise the corpus builds in; here it is checked."""
    claims = [("score rises with richness: none < s_nothink < regen <= s", "accuracy", True),
              ("length falls with richness: none > s_nothink > regen > s", "mean_length", False),
              ("epistemic count falls with richness: none > s_nothink > regen > s", "mean_epistemic", False)]
    out = []
    for claim, metric, rising in claims:
        if richness is None or richness.empty:
            out.append(Verdict(f"Table 1: {claim}", NOT_TESTED, "", "no Section 3 table", "premise"))
            continue
        order = TABLE1_ORDER if rising else TABLE1_ORDER[::-1]
        verdict, shown = ordered(richness, order, metric, strict_last=not rising)
        rule = RULES["below"] + ("; regen <= s: " + RULES["not_lower"] if rising else "")
        out.append(Verdict(f"Table 1: {claim}", verdict, rule, shown, "premise"))
    return out


def suppression(grid: Grid) -> list[Verdict]:
    """Sections 5-6: SDPO with c = s cuts epistemic count and length most, c = s_nothink less,
    GRPO barely at all."""
    out = []
    for metric, what in (("mean_epistemic", "epistemic count"), ("mean_length", "length")):
        claim = f"SDPO with c = s cuts the OOD {what} most (vs sdpo_s_nothink and grpo, every coverage)"
        others = [m for m in ("sdpo_s_nothink", "grpo") if m in grid.methods]
        if not grid.has("sdpo_s") or not others:
            out.append(Verdict(claim, NOT_TESTED, "", "the grid lacks sdpo_s or both comparison methods"))
            continue
        parts, shown = [], []
        for cov in grid.coverages:
            for m in others:
                iv = grid.contrast("sdpo_s", m, cov, metric)
                parts.append(below(iv))
                shown.append(f"{cov}: sdpo_s - {m} {iv}")
        out.append(Verdict(claim, combine(parts), RULES["below"] + "; " + RULES["all"], "; ".join(shown)))

    claim = "SDPO with c = s_nothink cuts the OOD epistemic count less than c = s and more than GRPO"
    if grid.has("sdpo_s", "sdpo_s_nothink", "grpo"):
        parts, shown = [], []
        for cov in grid.coverages:
            for a, b in (("sdpo_s", "sdpo_s_nothink"), ("sdpo_s_nothink", "grpo")):
                iv = grid.contrast(a, b, cov, "mean_epistemic")
                parts.append(below(iv))
                shown.append(f"{cov}: {a} - {b} {iv}")
        out.append(Verdict(claim, combine(parts), RULES["below"] + "; " + RULES["all"], "; ".join(shown)))
    else:
        out.append(Verdict(claim, NOT_TESTED, "", "the grid lacks one of sdpo_s, sdpo_s_nothink, grpo"))

    claim = "GRPO leaves the OOD epistemic count near the base model's (every coverage)"
    if grid.has("grpo"):
        band = grid.base("mean_epistemic") * 0.25
        ivs = {cov: grid.change("grpo", cov, "mean_epistemic") for cov in grid.coverages}
        out.append(Verdict(claim, combine([near_zero(iv, band) for iv in ivs.values()]),
                           RULES["near_zero"] + "; " + RULES["all"],
                           f"band +-{band:.2f}; " + "; ".join(f"{c}: {iv}" for c, iv in ivs.items())))
    else:
        out.append(Verdict(claim, NOT_TESTED, "", "the grid lacks grpo"))
    return out


def ood_accuracy(grid: Grid) -> list[Verdict]:
    """Sections 5-6: SDPO with c = s lowers OOD accuracy; GRPO does not; coverage decides in-domain."""
    out = []
    if grid.has("sdpo_s", "grpo"):
        broad = grid.coverages[-1]
        sdpo, grpo = grid.change("sdpo_s", broad, "accuracy"), grid.change("grpo", broad, "accuracy")
        out.append(Verdict(f"at broad coverage ({broad}) SDPO with c = s lowers OOD accuracy", lower(sdpo),
                           RULES["lower"], f"sdpo_s {sdpo}"))
        out.append(Verdict(f"at broad coverage ({broad}) GRPO does not lower OOD accuracy", not_lower(grpo),
                           RULES["not_lower"], f"grpo {grpo}"))
    else:
        out.append(Verdict("at broad coverage SDPO with c = s lowers OOD accuracy and GRPO does not", NOT_TESTED,
                           "", "the grid lacks sdpo_s or grpo"))
    if grid.has("sdpo_s"):
        ivs = {cov: grid.change("sdpo_s", cov, "accuracy") for cov in grid.coverages}
        out.append(Verdict("SDPO with c = s ends below the base on OOD accuracy at every coverage (Section 6)",
                           combine([lower(iv) for iv in ivs.values()]), RULES["lower"] + "; " + RULES["all"],
                           "; ".join(f"{c}: {iv}" for c, iv in ivs.items())))
    claim = "narrow coverage lets SDPO with c = s gain on its training problems faster than GRPO"
    narrow = grid.coverages[0] if grid.coverages else None
    step = grid.first_step("sdpo_s", narrow) if grid.has("sdpo_s", "grpo") and len(grid.coverages) > 1 else None
    if step is None:
        out.append(Verdict(claim, NOT_TESTED, "", "needs sdpo_s and grpo at two coverage levels or more"))
    else:
        iv = grid.contrast("grpo", "sdpo_s", narrow, "accuracy", split="seen", step=step)
        out.append(Verdict(f"{claim} ({narrow}, first checkpoint, step {step})", below(iv), RULES["below"],
                           f"seen accuracy, grpo - sdpo_s {iv}"))
    return out


def offpolicy(grid: Grid) -> list[Verdict]:
    """Section 4 (Table 2): SFT on solution-guided traces lowers OOD accuracy; on unguided ones not."""
    if not grid.has("sft_ug", "sft_sg"):
        return [Verdict("Table 2: SFT on D_sg lowers OOD accuracy, SFT on D_ug does not", NOT_TESTED, "",
                        "the grid lacks sft_ug or sft_sg")]
    sg = {cov: grid.change("sft_sg", cov, "accuracy") for cov in grid.coverages}
    ug = {cov: grid.change("sft_ug", cov, "accuracy") for cov in grid.coverages}
    diff = {cov: grid.contrast("sft_sg", "sft_ug", cov, "accuracy") for cov in grid.coverages}

    def shown(ivs):
        return "; ".join(f"{c}: {iv}" for c, iv in ivs.items())

    return [
        Verdict("Table 2: SFT on D_sg lowers OOD accuracy (every coverage)", combine([lower(v) for v in sg.values()]),
                RULES["lower"] + "; " + RULES["all"], shown(sg)),
        Verdict("Table 2: SFT on D_ug does not lower OOD accuracy (every coverage)",
                combine([not_lower(v) for v in ug.values()]), RULES["not_lower"] + "; " + RULES["all"], shown(ug)),
        Verdict("Table 2: SFT on D_sg ends below SFT on D_ug on OOD accuracy (every coverage)",
                combine([below(v) for v in diff.values()]), RULES["below"] + "; " + RULES["all"],
                "sft_sg - sft_ug " + shown(diff)),
    ]


def moving_teacher(grid: Grid) -> list[Verdict]:
    """Section 5's ablation: a slowly moving teacher shortens responses faster and degrades more."""
    claim = "a moving teacher (EMA 0.05) shortens OOD responses more and lowers OOD accuracy more than a frozen one"
    if not grid.has("sdpo_s", "sdpo_s_ema"):
        return [Verdict(claim, NOT_TESTED, "", "the grid has no sdpo_s_ema cell (add it to grid.methods)")]
    parts, shown = [], []
    for cov in grid.coverages:
        for metric in ("mean_length", "accuracy"):
            iv = grid.contrast("sdpo_s_ema", "sdpo_s", cov, metric)
            parts.append(below(iv))
            shown.append(f"{cov} {metric}: sdpo_s_ema - sdpo_s {iv}")
    return [Verdict(claim, combine(parts), RULES["below"] + "; " + RULES["all"], "; ".join(shown))]


def all_claims(problems: pd.DataFrame, richness: pd.DataFrame | None = None) -> list[Verdict]:
    """Every claim's verdict; over all base models pooled where the frames have several."""
    grid = Grid(problems)
    return (table1(richness) + suppression(grid) + ood_accuracy(grid) + offpolicy(grid) + moving_teacher(grid)
            + intervention(grid))


def claims_by_base(problems: pd.DataFrame, richness: pd.DataFrame | None = None) -> dict[int, list[Verdict]]:
    """Each base model's verdicts from its own cells and Section 3 alone (frames with a `base` column)."""
    return {int(base): all_claims(part, None if richness is None else richness[richness["base"] == base])
            for base, part in problems.groupby("base")}


def claims_table(pooled: list[Verdict], per_base: dict[int, list[Verdict]]) -> pd.DataFrame:
    """claims.csv: each claim's pooled verdict, rule and numbers, and with several base models each
    one's verdict in a column `base <n>`."""
    table = pd.DataFrame(pooled)
    if len(per_base) > 1:
        for base, verdicts in per_base.items():
            if [v.claim for v in verdicts] != list(table["claim"]):
                raise ValueError(f"base {base} tests other claims than the pooled grid")
            table[f"base {base}"] = [v.verdict for v in verdicts]
    return table


def front_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The report's front-page table: a claims table without its rules, premises first."""
    bases = [c for c in claims.columns if c.startswith("base ")]
    premises_first = claims.sort_values("kind", key=lambda k: k != "premise", kind="stable")
    return premises_first[["kind", "claim", "verdict", *bases, "measured"]]
