"""Which process of a multi-GPU training job this is, and how it takes its share of a batch.

`accelerate launch` starts one process per GPU and gives each its rank and the number of
processes in the environment (RANK, WORLD_SIZE); a plain `python -m` run is rank 0 of 1.
"""
from __future__ import annotations

import os


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def per_device_batch_size(batch_size: int) -> int:
    """One process's share of a batch. The config's batch sizes count examples or completions
    per optimizer step over all processes, as the study's do, so the GPU count never changes
    what is trained."""
    n = world_size()
    if batch_size % n:
        raise ValueError(f"batch_size={batch_size} does not split evenly over {n} training processes; "
                         f"make it a multiple of {n} or change the GPU count (compute.train.gpus)")
    return batch_size // n


def batch_layout(batch_size: int, micro_batch_size: int | None = None) -> dict:
    """TrainingArguments for `batch_size` examples or completions per optimizer step over all
    processes: each process takes its share in passes of `micro_batch_size` (gradient
    accumulation), or all at once where that is None. Long sequences need small passes: the
    optimizer step sees the same batch either way."""
    share = per_device_batch_size(batch_size)
    micro = micro_batch_size or share
    if share % micro:
        raise ValueError(f"micro_batch_size={micro} does not divide a training process's share of batch_size="
                         f"{batch_size} ({share} in each of {world_size()} processes)")
    return {"per_device_train_batch_size": micro, "gradient_accumulation_steps": share // micro}
