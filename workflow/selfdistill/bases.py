"""Base models as an axis of the study: each entry of the config's `bases` is one world, one base
model and one Section 3, all drawn from that entry as their seed, so the grid's verdicts can be
checked against the spread between base models and not only between training seeds."""
from __future__ import annotations

import copy

# every seed that decides which world, base model and base evaluations a run has; the grid's
# training seeds (grid.seeds) stay replicates within a base
SEEDED = (("arith", "seed"), ("base_model", "train", "seed"), ("evaluation", "sampling", "seed"),
          ("section3", "seed"), ("grid", "coverage_seed"), ("grid", "evaluation", "sampling", "seed"),
          ("grid", "offpolicy", "sampling", "seed"))


def base_config(config: dict, base: int) -> dict:
    """The config as one base's jobs see it: every key of SEEDED set to `base`."""
    out = copy.deepcopy(config)
    for *path, key in SEEDED:
        node = out
        for part in path:
            node = node[part]
        node[key] = base
    return out


def seeded_key(path: list[str]) -> bool:
    """Is the dotted key `path` one that `bases` sets (so a config must not)?"""
    return tuple(path) in SEEDED
