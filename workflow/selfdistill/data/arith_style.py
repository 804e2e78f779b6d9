"""The style error model (`arith.errors: style`): the arithmetic world as it was first built.

The expert's first result at a hard step is wrong at a rate the corpus sets, and always the same
wrong value (a forgotten carry or borrow); the rate depends on the context (lower with the answer
shown). A model pretrained on it learns every fact and a habit of slipping, which a confident
teacher switches off: self-distillation then removes slips everywhere, OOD included. The default
for now; the capability model beside it is built so that errors are the model's own.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from selfdistill.data.arith import Problem, Trace, apply, confident_trace, finish, is_hard, recheck, shows_checks, \
    step_line
from selfdistill.data.arith import DOUBTS


@dataclass(frozen=True)
class ExpertStyle:
    """How the expert that writes pretraining traces errs and doubts (the `arith.style` section)."""

    error_rate: float = 0.3          # P(first result of a hard step is wrong)
    doubt_on_error: float = 0.6      # P(doubt | wrong first result); slips no doubt catches stay
    doubt_on_correct: float = 0.6    # P(doubt | right first result at a hard step)
    # shown the final answer (c = s_nothink), the expert works more carefully and doubts less
    answer_error_rate: float = 0.2
    answer_doubt_on_error: float = 0.4
    answer_doubt_on_correct: float = 0.4
    # shown a solution that carries no checks of its own (regen), the solver copies it but works
    # out this share of its hard steps itself, at the answer_* rates, and can slip there
    spot_check: float = 0.3


def slip(op: str, right: int) -> int:
    """The expert's systematic slip at a hard step: a forgotten carry (add, multiply) or a
    forgotten borrow (subtract). Being systematic, a model that imitates it learns one
    specific wrong value, as real solvers repeat their typical mistakes."""
    if op == "sub":
        return right + 10
    return right - 10 if right >= 10 else right + 1


def expert_trace(problem: Problem, rng: random.Random, style: ExpertStyle, guided: bool = False,
                 work_rate: float = 1.0) -> str:
    """A reasoning trace with slips and doubts; each line restates the instruction it carries out.
    `guided`: the expert knows where it must arrive, so it slips and doubts at the `answer_*` rates.
    `work_rate`: the share of hard steps it works out itself; the rest it copies from a solution
    in its context, right and without doubt."""
    error_rate, on_error, on_correct = (
        (style.answer_error_rate, style.answer_doubt_on_error, style.answer_doubt_on_correct) if guided
        else (style.error_rate, style.doubt_on_error, style.doubt_on_correct))
    value, lines = problem.start, [f"Start with {problem.start}."]
    for i, (op, x) in enumerate(problem.steps, 1):
        right = apply(op, value, x)
        line = step_line(i, op, value, x) + " "
        # an uncaught slip can push the running value below zero; no column check exists there
        if value >= 0 and right >= 0 and is_hard(op, value, x) and rng.random() < work_rate:
            wrong = rng.random() < error_rate
            first = slip(op, right) if wrong else right
            doubt = rng.random() < (on_error if wrong else on_correct)
            line += f"{first}."
            if doubt:
                # the running value is always the last number of a line, even after a correction
                verdict = "Yes, it is" if first == right else f"Not {first}, it is"
                line += f" {rng.choice(DOUBTS)} {recheck(op, value, x)}. {verdict} {right}."
            else:
                right = first
        else:
            line += f"{right}."
        lines.append(line)
        value = right
    return finish(problem, lines, value)


class StyleErrors:
    """The traces of each context the corpus shows (arith_corpus), under the style error model."""

    def __init__(self, style: ExpertStyle):
        self.style = style

    def unguided(self, problem: Problem, rng: random.Random) -> Trace:
        return Trace(expert_trace(problem, rng, self.style))

    def shown_solution(self, problem: Problem, rng: random.Random, solution: str) -> Trace:
        """Shown a solution with its own checks (c = s) the target copies it with no doubt; one
        that shows none (regen's form) it copies but works out some hard steps itself."""
        if shows_checks(solution):
            return Trace(confident_trace(problem))
        return Trace(expert_trace(problem, rng, self.style, guided=True, work_rate=self.style.spot_check))

    def shown_answer(self, problem: Problem, rng: random.Random, context: str) -> Trace:
        """Shown the solution's answer part (c = s_nothink): it slips less and doubts less."""
        return Trace(expert_trace(problem, rng, self.style, guided=True))

    def confident(self, problem: Problem) -> str:
        return confident_trace(problem)
