"""Task-coverage training sets (the study's Section 6 axis), nested like the study's files.

One seeded permutation of the training pool orders the problems; every level takes a prefix of
it, so 1x64 is inside 8x8, inside 64, inside 128, inside 512, and `full` is the whole pool.
"""
from __future__ import annotations

import random

# label -> (distinct problems, times each repeats); None: the whole pool once
LEVELS: dict[str, tuple[int | None, int]] = {
    "1x64": (1, 64), "8x8": (8, 8), "64": (64, 1), "128": (128, 1), "512": (512, 1), "full": (None, 1),
}


def coverage_set(pool: list[dict], label: str, seed: int) -> list[dict]:
    """The training rows of coverage level `label`; repeats cycle through the distinct problems
    (8x8 is p1..p8, p1..p8, ...) so any prefix of the rows sees every problem about equally."""
    if label not in LEVELS:
        raise ValueError(f"coverage={label!r}: valid are {', '.join(map(repr, LEVELS))}")
    distinct, repeats = LEVELS[label]
    distinct = len(pool) if distinct is None else distinct
    if distinct > len(pool):
        raise ValueError(f"coverage={label!r} needs {distinct} distinct problems but the training pool "
                         f"has {len(pool)}; raise arith.train_size (math: math.pool.limit) or drop {label!r} "
                         "from grid.coverage")
    order = sorted(pool, key=lambda p: p["problem_id"])  # the file's order must not matter
    random.Random(seed).shuffle(order)
    return order[:distinct] * repeats


def distinct_problems(rows: list[dict], limit: int | None = None) -> list[dict]:
    """Each problem of `rows` once, in first-seen order, at most `limit`: the seen split."""
    seen: dict[str, dict] = {}
    for r in rows:
        seen.setdefault(r["problem_id"], r)
    return list(seen.values())[:limit]
