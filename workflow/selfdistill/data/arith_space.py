"""How many distinct problems an arithmetic difficulty can produce, so a config asking for more
is refused before any job rather than after hours of drawing (selfdistill.data.arith.draw).

Counts the chains `arith.sample_problem` can reach: at each value every legal (op, operand), and
where the three operands it draws can all be illegal, its fallback "subtract 1..value".
"""
from __future__ import annotations

import numpy as np

# beyond this many values the count takes too long, and such ranges hold ample problems
MAX_VALUES = 2_000_000


def _range_sums(counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per value v, the sum of counts[lo[v] .. hi[v]] (0 where the range is empty)."""
    prefix = np.concatenate([[0.0], np.cumsum(counts)])
    lo, hi = np.clip(lo, 0, len(counts)), np.clip(hi + 1, 0, len(counts))
    return np.where(hi > lo, prefix[hi] - prefix[np.minimum(lo, hi)], 0.0)


def distinct_problems(min_ops: int, max_ops: int, start_max: int, operand_max: int, mul_max: int,
                      value_max: int) -> float | None:
    """The number of distinct problems (start and steps) of a difficulty, as a float (it can
    exceed any integer type); None where the value range is too wide to count."""
    size = max(start_max, value_max) + 1
    if size > MAX_VALUES:
        return None
    v = np.arange(size)
    fallback = (v + operand_max > value_max) & ((v < operand_max) | (v > value_max + 2)) & (v * mul_max > value_max)
    # ends of the range of values one step can lead to, per kind of move
    add_lo, add_hi = v + 2, np.minimum(v + operand_max, value_max)
    sub_lo = np.where(fallback, 0, np.maximum(v - operand_max, 0))
    sub_hi = np.where(fallback, v - 1, np.minimum(v - 2, value_max))
    chains = np.ones(size)  # chains of 0 more steps from each value
    total = 0.0
    for ops in range(1, max_ops + 1):
        nxt = _range_sums(chains, add_lo, add_hi) + _range_sums(chains, sub_lo, sub_hi)
        for x in range(2, mul_max + 1):
            ok = v * x <= value_max
            nxt[ok] += chains[v[ok] * x]
        chains = nxt
        if ops >= min_ops:
            total += float(chains[2:start_max + 1].sum())
    return total
