"""Intervals for every comparison a finding rests on: a paired bootstrap over problems and seeds,
and over base models where there are several.

An evaluation's unit of variation is the problem (its mean over samples), and a trained cell's
is also the training seed. A change from the base model compares the same problems before and
after, so problems are resampled jointly for both (paired), and seeds are resampled where there
are several. Two cells are compared the same way: on the same problems, seed by seed. With several
base models (a per-problem frame with a `base` column), each base has its own world, problems and
cells: the bootstrap resamples bases, then seeds within each drawn base, then its problems, each
cell paired with its own base model's evaluation; the estimate weighs every base alike, and the
interval is read with Student's t for the number of bases (`hierarchical`).
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
import pandas as pd

REPLICATES = 2000
LEVEL = 0.95
SEED = 0  # the resampling is seeded, so a table's intervals are reproducible


class Interval(NamedTuple):
    estimate: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.estimate:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


def bootstrap(diff: np.ndarray) -> Interval:
    """Mean of a (seeds x problems) matrix of paired differences, with a percentile interval from
    resampling seeds and problems with replacement (the same problems for every seed)."""
    return hierarchical([diff])


def hierarchical(diffs: list[np.ndarray]) -> Interval:
    """Mean over base models of each one's (seeds x problems) matrix of paired differences, with an
    interval from resampling bases, then seeds and problems within each drawn base.

    With one base it is the percentile interval of the seeds-and-problems bootstrap. With several,
    a percentile interval could never reach past the bases' own values (a replicate is a mean of
    drawn bases), however few and far apart they are; so it is the estimate +- Student's t
    quantile for bases - 1 degrees of freedom times the replicates' standard deviation, as a t
    interval on the bases' means would be, with each base's own noise inside that deviation.
    """
    diffs = [np.atleast_2d(np.asarray(d, dtype=float)) for d in diffs]
    bases = len(diffs)
    rng = np.random.default_rng(SEED)
    # each slot of a replicate's draw of bases gets inner replicates of its own, so a base drawn
    # twice is resampled twice, independently
    inner = np.stack([_replicates(d, rng, REPLICATES * bases).reshape(bases, REPLICATES) for d in diffs])
    pick = rng.integers(0, bases, (REPLICATES, bases))
    means = inner[pick, np.arange(bases), np.arange(REPLICATES)[:, None]].mean(axis=1)
    estimate = float(np.mean([d.mean() for d in diffs]))
    tail = (1 - LEVEL) / 2
    if bases == 1:
        low, high = np.quantile(means, [tail, 1 - tail])
        return Interval(estimate, float(low), float(high))
    half = t_quantile(1 - tail, bases - 1) * float(means.std(ddof=1))
    return Interval(estimate, estimate - half, estimate + half)


@functools.cache
def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (p > 0.5), by bisection on its distribution function integrated from
    the density (the analysis environment has no scipy)."""
    norm = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(x: float) -> float:
        grid = np.linspace(0, x, 20001)
        density = norm * (1 + grid ** 2 / df) ** (-(df + 1) / 2)
        return 0.5 + float(np.sum((density[1:] + density[:-1]) / 2) * (grid[1] - grid[0]))

    low, high = 0.0, 1000.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


def _replicates(diff: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """n bootstrap means of one base's (seeds x problems) matrix: seeds and problems resampled,
    the same problems for every seed."""
    seeds, problems = diff.shape
    if problems == 0:
        raise ValueError("bootstrap needs at least one problem")
    pick_problems = rng.integers(0, problems, (n, problems))
    pick_seeds = rng.integers(0, seeds, (n, seeds))
    per_seed = diff[:, pick_problems].mean(axis=-1)  # (seeds, n): each seed on the resampled problems
    return per_seed[pick_seeds, np.arange(n)[:, None]].mean(axis=1)


def values(pf: pd.DataFrame, metric: str, **where) -> pd.DataFrame:
    """A (seed x problem) table of `metric` from the per-problem frame, rows selected by `where`
    (column=value); `step="final"` takes each seed's last step."""
    step = where.pop("step", None)
    rows = pf
    for column, value in where.items():
        rows = rows[rows[column] == value]
    if step == "final":
        rows = rows[rows["step"] == rows.groupby("seed")["step"].transform("max")]
    elif step is not None:
        rows = rows[rows["step"] == step]
    if rows.empty:
        raise KeyError(f"no per-problem rows for {where} at step {step}")
    return rows.pivot_table(index="seed", columns="problem_id", values=metric, aggfunc="mean")


def by_base(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """A frame's rows per base model (its `base` column); a frame without one is one base."""
    return [part for _, part in frame.groupby("base")] if "base" in frame else [frame]


def change(pf: pd.DataFrame, method: str, coverage: str, split: str, metric: str, step="final") -> Interval:
    """A cell's change from the base model (its step 0) on the same problems, over its seeds, and
    over base models where `pf` has several (each cell against its own base)."""
    cell = dict(method=method, coverage=coverage, split=split)
    return hierarchical([_aligned(values(b, metric, **cell, step=step), values(b, metric, **cell, step=0))
                         for b in by_base(pf)])


def contrast(pf: pd.DataFrame, a: str, b: str, coverage: str, split: str, metric: str, step="final") -> Interval:
    """Method a's change minus method b's, on the same problems and seeds: both start from the same
    base model, so this is a's value minus b's (within each base where there are several)."""
    return hierarchical([_aligned(values(part, metric, method=a, coverage=coverage, split=split, step=step),
                                  values(part, metric, method=b, coverage=coverage, split=split, step=step))
                         for part in by_base(pf)])


def _aligned(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """left - right on their common problems, seed by seed (right broadcast when it has one seed)."""
    problems = left.columns.intersection(right.columns)
    if problems.empty:
        raise ValueError("the two evaluations share no problem, so they cannot be compared pairwise")
    if len(right) == 1:
        return left[problems].to_numpy() - right[problems].to_numpy()
    seeds = left.index.intersection(right.index)
    return left.loc[seeds, problems].to_numpy() - right.loc[seeds, problems].to_numpy()
