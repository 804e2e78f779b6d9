"""The study's claims, each checked against the grid by a rule that reads 95% intervals.

A claim comes out *holds*, *contradicted* or *inconclusive*; one the grid has no cells for comes
out *not tested*. The rules are stated in `RULES` and printed beside every verdict, so a reader
can check them; they use the intervals of selfdistill.evaluation.uncertainty (paired over problems, and over
seeds where there are several).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from selfdistill.data.coverage import LEVELS
from selfdistill.evaluation.uncertainty import Interval, by_base, change, contrast, hierarchical

HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_TESTED = "holds", "contradicted", "inconclusive", "not tested"
# An accuracy change smaller than this is no change worth a claim (5 points of avg@k).
ACCURACY_TOLERANCE = 0.05
# "Near zero" for an epistemic count: within this share of the base model's count.
EPISTEMIC_TOLERANCE = 0.25

RULES = {
    "lower": "holds if the interval's upper bound is below 0; contradicted if its lower bound is above "
             f"-{ACCURACY_TOLERANCE} (no drop of that size); inconclusive otherwise",
    "not_lower": f"holds if the interval's lower bound is above -{ACCURACY_TOLERANCE}; contradicted if its "
                 f"upper bound is below -{ACCURACY_TOLERANCE}; inconclusive otherwise",
    "below": "a < b holds if the interval of a - b lies below 0; contradicted if it lies above 0; "
             "inconclusive otherwise",
    "near_zero": f"holds if the interval lies within +-{EPISTEMIC_TOLERANCE:.0%} of the base model's value; "
                 "contradicted if it lies wholly outside that band; inconclusive otherwise",
    "all": "holds if every part holds; contradicted if any part is contradicted; inconclusive otherwise",
}


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    rule: str
    measured: str
    # "premise": a property of the testbed that the other claims rest on (Section 3's teacher);
    # "outcome": what the training grid shows
    kind: str = "outcome"


def lower(iv: Interval) -> str:
    if iv.high < 0:
        return HOLDS
    return CONTRADICTED if iv.low > -ACCURACY_TOLERANCE else INCONCLUSIVE


def not_lower(iv: Interval) -> str:
    if iv.low > -ACCURACY_TOLERANCE:
        return HOLDS
    return CONTRADICTED if iv.high < -ACCURACY_TOLERANCE else INCONCLUSIVE


def below(iv: Interval) -> str:
    """For an interval of a - b: is a below b?"""
    return HOLDS if iv.high < 0 else CONTRADICTED if iv.low > 0 else INCONCLUSIVE


def near_zero(iv: Interval, band: float) -> str:
    if -band < iv.low and iv.high < band:
        return HOLDS
    return CONTRADICTED if iv.high < -band or iv.low > band else INCONCLUSIVE


def combine(parts: list[str]) -> str:
    if parts and all(p == HOLDS for p in parts):
        return HOLDS
    return CONTRADICTED if CONTRADICTED in parts else INCONCLUSIVE


def ordered(frame: pd.DataFrame, order: list[str], metric: str, strict_last: bool = True) -> tuple[str, str]:
    """Is `metric` increasing along `order` (levels of frame's `richness`, paired by problem, within
    each base model)? With strict_last False the last step only has to be no drop beyond the
    accuracy tolerance."""
    tables = [part.pivot_table(index="richness", columns="problem_id", values=metric) for part in by_base(frame)]
    parts, shown = [], []
    for i, (a, b) in enumerate(zip(order, order[1:])):
        iv = hierarchical([(table.loc[a] - table.loc[b]).dropna().to_numpy() for table in tables])
        last_weak = not strict_last and i == len(order) - 2
        parts.append(not_lower(Interval(-iv.estimate, -iv.high, -iv.low)) if last_weak else below(iv))
        shown.append(f"{a} - {b} {iv}")
    return combine(parts), "; ".join(shown)


class Grid:
    """The cells a grid has, and the intervals of their changes (per-problem frame of grid_summary)."""

    def __init__(self, problems: pd.DataFrame):
        self.problems = problems
        self.methods = set(problems["method"])
        self.coverages = [c for c in LEVELS if c in set(problems["coverage"])]

    def has(self, *methods: str) -> bool:
        return set(methods) <= self.methods and bool(self.coverages)

    def change(self, method, coverage, metric, split="ood", step="final") -> Interval:
        return change(self.problems, method, coverage, split, metric, step)

    def contrast(self, a, b, coverage, metric, split="ood", step="final") -> Interval:
        return contrast(self.problems, a, b, coverage, split, metric, step)

    def base(self, metric: str, split: str = "ood") -> float:
        rows = self.problems[(self.problems["step"] == 0) & (self.problems["split"] == split)]
        each = [c for c in ("base", "coverage", "problem_id") if c in rows]
        return float(rows.drop_duplicates(each)[metric].mean())

    def first_step(self, method: str, coverage: str) -> int | None:
        steps = self.problems[(self.problems["method"] == method) & (self.problems["coverage"] == coverage)
                              & (self.problems["step"] > 0)]["step"]
        return int(steps.min()) if len(steps) else None
