"""The math world: problem splits from the data sources of the config's `math` section.

train is the training pool (DAPO-Math-17k by default) less a seeded held-out draw, in_domain is
that draw (unseen problems of the training distribution), ood the evaluation benchmarks one after
another. Fixed coverage sets (the study's section_6_2 files) pass through row for row, repeats
included, and are never held out.
"""
from __future__ import annotations

import logging
import random

from selfdistill.data import mathdata


def sources(cfg: dict) -> dict[str, dict]:
    """Every data source by name, `pool`, `coverage_<label>` and `ood_<benchmark>`, each a dict
    with `source` and optional `sha256` and `limit`. A benchmark the config gives no source for
    is read from its pinned URL, checked against its pinned digest."""
    out = {"pool": cfg["pool"]}
    out.update({f"coverage_{label}": src for label, src in cfg["coverage_files"].items()})
    for name in cfg["ood"]:
        pinned = {"source": mathdata.BENCHMARKS.get(name), "sha256": mathdata.BENCHMARK_SHA256.get(name)}
        out[f"ood_{name}"] = cfg["benchmarks"].get(name, pinned)
    return out


def make_splits(cfg: dict, local: dict[str, str]) -> dict[str, list[dict]]:
    """{"train", "in_domain", "ood", "coverage_<label>"...: problem rows}. `local` maps a source's
    name to the file to read in place of its configured path (the rule passes local sources as
    inputs, resolved from the repository root); every other source is fetched."""
    srcs = sources(cfg)

    def read(name: str, loader) -> list[dict]:
        src = srcs[name]
        path = mathdata.fetch(local.get(name, src["source"]), None, src.get("sha256"))
        rows = loader(path)
        return rows[:src["limit"]] if src.get("limit") else rows

    pool = read("pool", mathdata.load_dapo)
    coverage = {name: read(name, mathdata.load_rl_parquet) for name in srcs if name.startswith("coverage_")}
    held = set(_heldout(pool, [r for rows in coverage.values() for r in rows], cfg["heldout_size"], cfg["seed"]))
    splits = {
        # math sources carry no worked solutions: the boxed answer is the only correct solution
        # to show for a problem the model never solves (Section 3, when its pass rate may be 0)
        "train": [{**p, "reference": f"\\boxed{{{p['answer']}}}"} for p in pool if p["problem_id"] not in held],
        "in_domain": [p for p in pool if p["problem_id"] in held],
        # the benchmark in each id keeps ids unique and lets an analysis split OOD results again
        "ood": [{**p, "problem_id": f"{name}/{p['problem_id']}"}
                for name in cfg["ood"] for p in read(f"ood_{name}", mathdata.load_rl_parquet)],
        **coverage,
    }
    logging.info("math world: %s", ", ".join(f"{k} {len(v)} rows" for k, v in splits.items()))
    return splits


def _heldout(pool: list[dict], reserved: list[dict], size: int, seed: int) -> list[str]:
    """Ids of `size` pool problems drawn with `seed`, none of them a `reserved` problem (by id or
    by text: DAPO holds a few texts under two ids, and dedup keeps only the first)."""
    ids, texts = {r["problem_id"] for r in reserved}, {r["prompt"] for r in reserved}
    candidates = sorted(p["problem_id"] for p in pool if p["problem_id"] not in ids and p["prompt"] not in texts)
    if len(candidates) < size:
        raise ValueError(f"math.heldout_size={size}, but the pool has only {len(candidates)} problems outside "
                         "the coverage files; lower it or raise math.pool.limit")
    random.Random(seed).shuffle(candidates)  # sorted first, so the file's order does not matter
    return candidates[:size]
