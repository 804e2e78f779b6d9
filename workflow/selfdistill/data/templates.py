"""Prompt templates of the study (official code) and the conditioning-richness levels."""
from __future__ import annotations

INSTRUCTION = "\nPlease reason step by step, and put your final answer within \\boxed{}."
# appended to a real model's c = s teacher prompt for a teacher that still voices its doubts
DOUBTFUL_INSTRUCTION = ("\nDo not simply copy the solution: verify each hard step yourself as you go, and say so "
                        "whenever a step might be wrong.")

# Conditioning richness, poorest first: what the teacher sees besides the prompt.
RICHNESS = ("none", "s_nothink", "regen", "s")


def student_prompt(problem: str) -> str:
    return problem + INSTRUCTION


def analysis_teacher_prompt(prompt: str, solution: str) -> str:
    """Section 3 template: the prompt followed by a correct solution."""
    return f"{prompt}\n\nCorrect solution: {solution}\n\nCorrectly solve the original question."


def onpolicy_teacher_prompt(prompt: str, demo: str) -> str:
    """On-policy self-distillation template: a sibling's correct rollout as demonstration."""
    return f"{prompt}\nCorrect solution:\n\n{demo}\n\nCorrectly solve the original question."
