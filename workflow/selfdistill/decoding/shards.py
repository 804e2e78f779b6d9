"""A sampling job's finished work, kept as it goes, so the rerun of a killed job samples only the rest.

The problems of one (checkpoint, split) are cut into shards of a fixed number of problems, in
order. Each shard's graded rows are written, whole, to `<samples output>.shards/<fingerprint>/`
the moment the shard is done: beside the job's outputs, not among them, since Snakemake deletes
a failed job's outputs. The fingerprint hashes everything the rows depend on (the model's and
the prompts' sha256, the sampling settings, the shard size, the sampling code), so a rerun
reuses exactly the shards made as it would make them, and removes folders of any other
fingerprint. Batch size is left out: each completion draws from its own stream
(decoding/streams.py), so a shard's draws depend on the settings and its problems alone, and
a job resumed with another batch size differs from a fresh one only in float rounding.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from selfdistill.io import read_jsonl, write_json, write_jsonl


def fingerprint(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


class ShardStore:
    """The finished shards of one output `samples`, made with `settings`."""

    def __init__(self, samples: str | Path, settings: dict):
        root = Path(f"{samples}.shards")
        self.folder = root / fingerprint(settings)
        for other in root.glob("*"):
            if other != self.folder:
                logging.info("removing shards made with other settings: %s", other)
                shutil.rmtree(other) if other.is_dir() else other.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        write_json(self.folder / "settings.json", settings)  # for whoever inspects the folder

    def _path(self, index: int) -> Path:
        return self.folder / f"shard-{index:05d}.jsonl"

    def load(self, index: int) -> list[dict] | None:
        path = self._path(index)
        return read_jsonl(path) if path.exists() else None

    def save(self, index: int, rows: list[dict]) -> None:
        write_jsonl(self._path(index), rows)  # atomic: a kill leaves the shard absent, never half written



def remove_shards(samples: str | Path) -> None:
    """Drop the shards kept for output `samples`, once the job has written all its outputs."""
    shutil.rmtree(f"{samples}.shards", ignore_errors=True)


def sample_in_shards(items: list[dict], size: int, store: ShardStore,
                     sample: Callable[[list[dict]], list[dict]]) -> list[dict]:
    """`sample(shard)`'s rows for each shard of `size` items in turn, taken from `store` where a
    shard is finished there; the rows of all shards, in order."""
    if size < 1:
        raise ValueError(f"shard size {size}: must be >= 1 problem")
    shards = [items[i:i + size] for i in range(0, len(items), size)]
    rows = []
    for index, shard in enumerate(shards):
        done = store.load(index)
        if done is None:
            done = sample(shard)
            store.save(index, done)
            logging.info("shard %d/%d: sampled %d problems", index + 1, len(shards), len(shard))
        else:
            logging.info("shard %d/%d: reused %d rows from %s", index + 1, len(shards), len(done), store.folder)
        rows += done
    return rows
