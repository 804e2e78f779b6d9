"""Which grader checks a world's answers. Stages pick one by the config's `world` value."""
from __future__ import annotations

from collections.abc import Callable

from selfdistill.data import arith
from selfdistill.evaluation import math_grader

Grader = Callable[[str | None, str], bool]

# arith: exact integers; math: equivalence under math-verify (1/2 == 0.5 == \frac{1}{2})
GRADERS: dict[str, Grader] = {"arith": arith.grade, "math": math_grader.grade}


def grader(world: str) -> Grader:
    if world not in GRADERS:
        raise ValueError(f"world={world!r}: valid are {', '.join(map(repr, GRADERS))}")
    return GRADERS[world]
