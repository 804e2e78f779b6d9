"""The pretraining corpus of the arithmetic world: (prompt, completion) pairs.

Most examples are unguided expert traces. A fraction carries a correct solution in a teacher
template, standing for the in-context skill real LLMs bring to self-distillation (the study's
Table 1, a premise of this world):
- a full solution with its own checks in context (c = s): the target copies it, confident, no doubt;
- a solution without checks in context (the model's own confident answer, as regen shows it):
  the target copies it but works out some hard steps itself (`style.spot_check`), doubting and
  slipping there as a solver that knows the answer does;
- the final answer only (c = s_nothink): the target is an expert trace of a solver that knows
  where it must arrive, so it slips less and doubts less.
"""
from __future__ import annotations

import random

from selfdistill.data.arith import ExpertStyle, Problem, answer_line, confident_trace, expert_trace, grade, shows_checks
from selfdistill.data.templates import analysis_teacher_prompt, onpolicy_teacher_prompt, student_prompt
from selfdistill.evaluation.metrics import extract_answer

MAX_TRIES = 20


def correct_expert_trace(problem: Problem, rng: random.Random, style: ExpertStyle) -> str:
    """An unguided expert trace that ends with the right answer (every slip in it caught by a doubt)."""
    for _ in range(MAX_TRIES):
        trace = expert_trace(problem, rng, style)
        if grade(extract_answer(trace), problem.answer):
            return trace
    return confident_trace(problem)


def teacher_prompt(rng: random.Random, prompt: str, solution: str) -> str:
    """Both of the study's teacher templates occur, so either works at analysis and training time."""
    template = rng.choice((analysis_teacher_prompt, onpolicy_teacher_prompt))
    return template(prompt, solution)


def pretrain_examples(problems: list[Problem], rng: random.Random, style: ExpertStyle,
                      guided_full: float, guided_nothink: float, guided_unchecked: float) -> list[dict]:
    out = []
    for p in problems:
        prompt, u = student_prompt(p.text), rng.random()
        if u < guided_full:
            # an expert's solution shows its checks only where a doubt fired; one that shows none is
            # the unchecked kind below, so one rule holds throughout: what shows no check is re-checked
            solution = correct_expert_trace(p, rng, style)
            completion = (confident_trace(p) if shows_checks(solution)
                          else expert_trace(p, rng, style, guided=True, work_rate=style.spot_check))
            out.append({"prompt": teacher_prompt(rng, prompt, solution), "completion": completion})
        elif u < guided_full + guided_unchecked:
            out.append({"prompt": teacher_prompt(rng, prompt, confident_trace(p)),
                        "completion": expert_trace(p, rng, style, guided=True, work_rate=style.spot_check)})
        elif u < guided_full + guided_unchecked + guided_nothink:
            out.append({"prompt": teacher_prompt(rng, prompt, answer_line(p.answer)),
                        "completion": expert_trace(p, rng, style, guided=True)})
        else:
            out.append({"prompt": prompt, "completion": expert_trace(p, rng, style)})
    return out
