"""The capability error model (`arith.errors: capability`): errors are the model's own.

The corpus sets no error rate. Every first result it trains on is right; what the model gets
wrong is what it did not learn to compute in one step (a result over a wide range of values, of
which a tiny model memorizes only part). A share of the first results it *shows* are near misses
(`shown_wrong`), carrying no loss (Trace pieces without loss; training/sft.py), only so that the
doubt and recount after them can be trained: the model learns to correct, never to err. Doubt is a
habit after any first result (`doubt`), right or wrong; its recount (counting one at a time, each
value numbered so the count stops where its number is the operand) is
built from facts the model meets constantly, and the chain goes on from what the recount gives.

What a context shows the solver is what it can copy (the study's Table 1 as a premise of
information, not of rates): a full solution, every value (with checks shown: copied with no
doubt; with none shown, the form regen takes: copied, and a share `spot_check` of its steps
verified); a solution's last part, the s_nothink form, is its recap: the values of the first half
of its steps and the answer, so the solver copies that half and works out the rest itself.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from selfdistill.data.arith import DOUBTS, FINISH, Problem, Trace, answer_line, apply, shows_checks, step_line


@dataclass(frozen=True)
class Habits:
    """How the experts of the corpus doubt and what they show (the `arith.capability` section)."""

    doubt: float = 0.55        # P(doubt and recount) after a first result the solver worked out
    shown_wrong: float = 0.3   # share of worked-out first results shown as a near miss, without loss
    spot_check: float = 0.15   # copying a solution that shows no checks: share of steps verified


def recap_steps(problem: Problem) -> int:
    """How many of its first steps a trace's recap restates: the first half."""
    return len(problem.steps) // 2


def recap(values: list[int]) -> str:
    """A trace's last part after its thinking (what c = s_nothink shows): the first half's values."""
    if not values:
        return ""
    return "First steps: " + ", ".join(f"({i}) {v}" for i, v in enumerate(values, 1)) + ". "


def near_miss(right: int, rng: random.Random) -> int:
    """A wrong first result shown for its correction to follow: off by one or two, as the
    pretrained model's own wrong results mostly are."""
    return rng.choice([v for v in (right - 2, right - 1, right + 1, right + 2) if v >= 0])


def recount(op: str, a: int, b: int) -> str:
    """Counting one at a time, each value numbered, so the count stops where its number is b."""
    step, way = (1, "up") if op == "add" else (-1, "down")
    return f"counting {b} {way} from {a}: " + ", ".join(f"{a + step * k} ({k})" for k in range(1, b + 1))


class CapabilityErrors:
    """The traces of each context the corpus shows (arith_corpus), under the capability model."""

    def __init__(self, habits: Habits):
        self.habits = habits

    def unguided(self, problem: Problem, rng: random.Random) -> Trace:
        return self._trace(problem, rng, copied=0, spot=0.0)

    def shown_solution(self, problem: Problem, rng: random.Random, solution: str) -> Trace:
        """Every value copied; verified now and then where the solution shows no check of its own."""
        spot = 0.0 if shows_checks(solution) else self.habits.spot_check
        return self._trace(problem, rng, copied=len(problem.steps), spot=spot)

    def shown_answer(self, problem: Problem, rng: random.Random, context: str) -> Trace:
        """Shown a solution's recap: its half copied, the rest worked out as unguided."""
        return self._trace(problem, rng, copied=recap_steps(problem), spot=0.0)

    def confident(self, problem: Problem) -> str:
        return self._trace(problem, random.Random(0), copied=len(problem.steps), spot=0.0).text


    def _trace(self, problem: Problem, rng: random.Random, copied: int, spot: float) -> Trace:
        value, values = problem.start, []
        trace = Trace(f"<think>\nStart with {problem.start}.")
        for i, (op, x) in enumerate(problem.steps, 1):
            right = apply(op, value, x)
            trace.add("\n" + step_line(i, op, value, x))
            check = rng.random() < spot
            if i > copied and value >= 0 and right >= 0:
                wrong = rng.random() < self.habits.shown_wrong
                first = near_miss(right, rng) if wrong else right
                trace.add(f" {first}", loss=not wrong).add(".")
                check = rng.random() < self.habits.doubt
                if not check:
                    right = first  # an error no doubt caught: the chain goes on from it
            else:
                trace.add(f" {right}.")
            if check:
                # the recount's result stands, whatever the first result was: nothing to compare
                trace.add(f" {rng.choice(DOUBTS)} {recount(op, value, x)}. So it is {right}.")
            value = right
            values.append(value)
        n = len(problem.steps)
        return trace.add(f"\n({n + 1}) {FINISH}: {value}.\n</think>\n{recap(values[:recap_steps(problem)])}"
                         f"{answer_line(value)}")
