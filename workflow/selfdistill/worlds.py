"""Which grader checks a world's answers. Stages pick one by the config's `world` value."""
from __future__ import annotations

from collections.abc import Callable

from . import arith

Grader = Callable[[str | None, str], bool]


def grader(world: str) -> Grader:
    graders = {"arith": arith.grade}
    if world not in graders:
        raise ValueError(f"world={world!r}: valid are {', '.join(map(repr, graders))}")
    return graders[world]
