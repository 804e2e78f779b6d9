"""The premise table of an arithmetic world: each measured premise (evaluation/premises.py) beside
the rule it must meet and its verdict. A premise is built into the world, not an outcome of the
grid; one that does not hold says what the grid's accuracy claims cannot test.
"""
from __future__ import annotations

import pandas as pd

from selfdistill.evaluation.uncertainty import Interval
from selfdistill.reporting.verdicts import CONTRADICTED, HOLDS, INCONCLUSIVE, NOT_TESTED, Verdict, combine, near_zero

UNMOVED = 0.03        # "within 0.03 of the base" for facts the SFT set does not hold
RECOUNT_RIGHT = 0.98  # the recount's share right, at least
COLUMNS = ["premise", "estimate", "low", "high", "n", "rule", "verdict"]

ABOVE_ZERO = "holds if the interval lies above 0; contradicted if it lies below 0; inconclusive otherwise"
UNMOVED_RULE = (f"holds if the interval lies within +-{UNMOVED} of 0; contradicted if it lies wholly outside; "
                "inconclusive otherwise")
RECOUNT_RULE = (f"holds if the interval lies at or above {RECOUNT_RIGHT}; contradicted if it lies below; "
                "inconclusive otherwise")
WRONG_RULE = "holds if the interval lies above 0; contradicted if no greedy first result is wrong"


def above_zero(iv: Interval) -> str:
    return HOLDS if iv.low > 0 else CONTRADICTED if iv.high < 0 else INCONCLUSIVE


def at_least(iv: Interval, bound: float) -> str:
    return HOLDS if iv.low >= bound else CONTRADICTED if iv.high < bound else INCONCLUSIVE


def row(premise: str, iv: Interval | None, n: int, rule: str, verdict) -> dict:
    if iv is None or not n:
        return {"premise": premise, "estimate": None, "low": None, "high": None, "n": 0, "rule": rule,
                "verdict": NOT_TESTED}
    return {"premise": premise, "estimate": iv.estimate, "low": iv.low, "high": iv.high, "n": n, "rule": rule,
            "verdict": verdict(iv)}


def table(greedy_wrong: tuple[Interval, int], sft: dict[int, dict[str, tuple[Interval | None, int]]],
          recount: tuple[Interval | None, int], forced_gain: tuple[Interval, int]) -> pd.DataFrame:
    """Rows in the order a reader checks them. `sft` maps the SFT set's size to the changes on
    facts in and not in it (interval, steps measured); `forced_gain` is OOD accuracy with a doubt
    forced after every first result minus without (problems)."""
    rows = [row("greedy first result wrong at OOD steps (share)", *greedy_wrong, WRONG_RULE,
                lambda iv: HOLDS if iv.low > 0 else CONTRADICTED if iv.estimate == 0 else INCONCLUSIVE)]
    for size, change in sft.items():
        rows.append(row(f"SFT on {size} confident traces: greedy change, facts not in the set", *change["not_in_set"],
                        UNMOVED_RULE, lambda iv: near_zero(iv, UNMOVED)))
        rows.append(row(f"SFT on {size} confident traces: greedy change, facts in the set", *change["in_set"],
                        ABOVE_ZERO, above_zero))
    rows.append(row("recount right (share of recounts in the base's OOD samples)", *recount, RECOUNT_RULE,
                    lambda iv: at_least(iv, RECOUNT_RIGHT)))
    rows.append(row("OOD accuracy gain from a doubt forced after every first result", *forced_gain, ABOVE_ZERO,
                    above_zero))
    return pd.DataFrame(rows, columns=COLUMNS)


def measured(r) -> str:
    return "not measured" if not r.n else f"{r.estimate:.3f} [{r.low:.3f}, {r.high:.3f}] (n = {r.n})"


def verdicts(tables: dict[int, pd.DataFrame]) -> tuple[list[Verdict], dict[int, list[Verdict]]]:
    """The rows of each base's premise table as claims of kind "premise": each base's own, and over
    the bases one that holds only where every base's does (`combine`)."""
    each = {b: [Verdict(f"World: {r.premise}", r.verdict, r.rule, measured(r), "premise") for r in t.itertuples()]
            for b, t in tables.items()}
    rows = list(zip(*each.values()))
    pooled = [Verdict(vs[0].claim, vs[0].verdict if len(vs) == 1 else combine([v.verdict for v in vs]), vs[0].rule,
                      "; ".join(v.measured if len(vs) == 1 else f"base {b}: {v.measured}" for b, v in zip(each, vs)),
                      "premise") for vs in rows]
    return pooled, each
