"""The pretraining corpus of the arithmetic world: (prompt, completion) pairs.

Most examples are unguided expert traces. A fraction carries a correct solution in a teacher
template, standing for the in-context skill real LLMs bring to self-distillation (the study's
Table 1, a premise of this world): a full solution with its own checks (c = s), a full solution
without checks (the form regen takes) and a solution's part after its thinking (c = s_nothink).
What the target does with each is the error model's (`arith.errors`): arith_style.py (the
default) or arith_capability.py.
"""
from __future__ import annotations

import random

from selfdistill.data.arith import Problem, grade
from selfdistill.data.arith_capability import CapabilityErrors, Habits
from selfdistill.data.arith_style import ExpertStyle, StyleErrors
from selfdistill.data.templates import analysis_teacher_prompt, onpolicy_teacher_prompt, student_prompt
from selfdistill.evaluation.metrics import extract_answer, strip_thinking

MAX_TRIES = 20
ERROR_MODELS = ("capability", "style")


def error_model(errors: str, settings: dict):
    """The error model named by `arith.errors`, from its own section's settings."""
    if errors == "capability":
        return CapabilityErrors(Habits(**settings))
    if errors == "style":
        return StyleErrors(ExpertStyle(**settings))
    raise ValueError(f"arith.errors={errors!r}: valid are {', '.join(map(repr, ERROR_MODELS))}")


def correct_expert_trace(problem: Problem, rng: random.Random, errors) -> str:
    """An unguided expert trace that ends with the right answer."""
    for _ in range(MAX_TRIES):
        trace = errors.unguided(problem, rng).text
        if grade(extract_answer(trace), problem.answer):
            return trace
    return errors.confident(problem)


def teacher_prompt(rng: random.Random, prompt: str, solution: str) -> str:
    """Both of the study's teacher templates occur, so either works at analysis and training time."""
    template = rng.choice((analysis_teacher_prompt, onpolicy_teacher_prompt))
    return template(prompt, solution)


def pretrain_examples(problems: list[Problem], rng: random.Random, errors, guided_full: float,
                      guided_nothink: float, guided_unchecked: float) -> list[dict]:
    out = []
    for p in problems:
        prompt, u = student_prompt(p.text), rng.random()
        if u < guided_full:
            # an expert's solution shows its checks only where a doubt fired; one that shows none is
            # the unchecked kind below, so one rule holds throughout: what shows no check is re-checked
            solution = correct_expert_trace(p, rng, errors)
            out.append(errors.shown_solution(p, rng, solution).example(teacher_prompt(rng, prompt, solution)))
        elif u < guided_full + guided_unchecked:
            solution = errors.confident(p)
            out.append(errors.shown_solution(p, rng, solution).example(teacher_prompt(rng, prompt, solution)))
        elif u < guided_full + guided_unchecked + guided_nothink:
            context = strip_thinking(correct_expert_trace(p, rng, errors))
            out.append(errors.shown_answer(p, rng, context).example(teacher_prompt(rng, prompt, context)))
        else:
            out.append(errors.unguided(p, rng).example(prompt))
    return out
