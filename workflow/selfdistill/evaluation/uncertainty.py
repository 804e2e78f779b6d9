"""Intervals for every comparison a finding rests on: a paired bootstrap over problems and seeds.

An evaluation's unit of variation is the problem (its mean over samples), and a trained cell's
is also the training seed. A change from the base model compares the same problems before and
after, so problems are resampled jointly for both (paired), and seeds are resampled where there
are several. Two cells are compared the same way: on the same problems, seed by seed.
"""
from __future__ import annotations

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
    diff = np.atleast_2d(np.asarray(diff, dtype=float))
    seeds, problems = diff.shape
    if problems == 0:
        raise ValueError("bootstrap needs at least one problem")
    rng = np.random.default_rng(SEED)
    pick_problems = rng.integers(0, problems, (REPLICATES, problems))
    pick_seeds = rng.integers(0, seeds, (REPLICATES, seeds))
    per_seed = diff[:, pick_problems].mean(axis=-1)  # (seeds, replicates): each seed on the resampled problems
    means = per_seed[pick_seeds, np.arange(REPLICATES)[:, None]].mean(axis=1)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return Interval(float(diff.mean()), float(low), float(high))


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


def change(pf: pd.DataFrame, method: str, coverage: str, split: str, metric: str, step="final") -> Interval:
    """A cell's change from the base model (its step 0) on the same problems, over its seeds."""
    cell = dict(method=method, coverage=coverage, split=split)
    after = values(pf, metric, **cell, step=step)
    before = values(pf, metric, **cell, step=0)
    return bootstrap(_aligned(after, before))


def contrast(pf: pd.DataFrame, a: str, b: str, coverage: str, split: str, metric: str, step="final") -> Interval:
    """Method a's change minus method b's, on the same problems and seeds: both start from the same
    base model, so this is a's value minus b's."""
    left = values(pf, metric, method=a, coverage=coverage, split=split, step=step)
    right = values(pf, metric, method=b, coverage=coverage, split=split, step=step)
    return bootstrap(_aligned(left, right))


def _aligned(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """left - right on their common problems, seed by seed (right broadcast when it has one seed)."""
    problems = left.columns.intersection(right.columns)
    if problems.empty:
        raise ValueError("the two evaluations share no problem, so they cannot be compared pairwise")
    if len(right) == 1:
        return left[problems].to_numpy() - right[problems].to_numpy()
    seeds = left.index.intersection(right.index)
    return left.loc[seeds, problems].to_numpy() - right.loc[seeds, problems].to_numpy()
