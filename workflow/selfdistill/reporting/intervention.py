"""Is suppressed doubt the cause? The study infers its mechanism from a correlation (richer teacher
context, fewer epistemic words, lower OOD accuracy); the grid tests it by intervention. Two SDPO
arms with c = s cannot take the student's doubt away: `sdpo_s_keepdoubt`, whose loss cannot move
the probability of starting an epistemic word, and `sdpo_s_doubtful`, whose teacher still doubts.
If suppressed doubt is what costs OOD accuracy, such an arm keeps both its epistemic count and
its OOD accuracy above plain `sdpo_s`'s.
"""
from __future__ import annotations

from selfdistill.reporting.verdicts import ACCURACY_TOLERANCE, CONTRADICTED, HOLDS, INCONCLUSIVE, NOT_TESTED, Grid, Interval, Verdict

ARMS = ("sdpo_s_keepdoubt", "sdpo_s_doubtful")
REFERENCES = ("sdpo_s", "grpo")  # what the arms are compared with

RULE = ("supported (holds) if, at every coverage, the intervals of arm - sdpo_s lie above 0 for both the OOD "
        "epistemic count and OOD accuracy; contradicted if the arm keeps the epistemic count above sdpo_s's "
        f"at every coverage while its OOD accuracy interval over sdpo_s's stays below +{ACCURACY_TOLERANCE} at "
        "some coverage (doubt kept, no accuracy kept with it); inconclusive otherwise (among them: the arm "
        "did not keep doubt, so it did not test the mechanism)")


def above(iv: Interval) -> bool:
    return iv.low > 0


def verdict(epistemic: list[Interval], accuracy: list[Interval]) -> str:
    """The rule RULE on the intervals of arm - sdpo_s, one per coverage."""
    kept = all(above(iv) for iv in epistemic)
    if kept and all(above(iv) for iv in accuracy):
        return HOLDS
    return CONTRADICTED if kept and any(iv.high < ACCURACY_TOLERANCE for iv in accuracy) else INCONCLUSIVE


def claim(arm: str) -> str:
    return f"suppressed doubt is the cause: {arm} keeps OOD epistemic count and OOD accuracy above sdpo_s"


def intervention(grid: Grid) -> list[Verdict]:
    """One verdict per intervention arm the grid has; the arm's OOD accuracy against GRPO's is
    shown beside it, not judged."""
    out = []
    for arm in ARMS:
        if not grid.has(arm, "sdpo_s"):
            out.append(Verdict(claim(arm), NOT_TESTED, "", f"the grid lacks {arm} or sdpo_s"))
            continue
        epistemic = [grid.contrast(arm, "sdpo_s", cov, "mean_epistemic") for cov in grid.coverages]
        accuracy = [grid.contrast(arm, "sdpo_s", cov, "accuracy") for cov in grid.coverages]
        shown = [f"{cov}: epistemic {e}, accuracy {a}" for cov, e, a in zip(grid.coverages, epistemic, accuracy)]
        if "grpo" in grid.methods:
            shown += [f"{cov}: accuracy {arm} - grpo {grid.contrast(arm, 'grpo', cov, 'accuracy')}"
                      for cov in grid.coverages]
        out.append(Verdict(claim(arm), verdict(epistemic, accuracy), RULE, f"{arm} - sdpo_s " + "; ".join(shown)))
    return out
