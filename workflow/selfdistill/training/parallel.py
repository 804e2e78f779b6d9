"""Which process of a training job over several processes this is, how it takes its share of a
batch, and what SDPOTrainer needs to train over several processes.

`accelerate launch` starts one process per GPU, or compute.train.processes on a CPU, and gives
each its rank and the number of processes in the environment (RANK, WORLD_SIZE); a plain
`python -m` run is rank 0 of 1.
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


class SDPOOverProcesses:
    """SDPOTrainer mixin for a job of several processes; one process trains as TRL's does.

    Each process draws its rollouts from a seed of its own, as GRPOTrainer seeds them: with TRL's
    one seed for all, processes handed the same prompt at once (a coverage set repeats each
    problem) would sample the same completions. And a process whose rollouts hold no
    demonstration joins the gather of the distillation metric that the others make, which TRL
    skips there, leaving the others waiting in it for good."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.accelerator.num_processes > 1:
            from accelerate.utils import set_seed

            set_seed(self.args.seed, device_specific=True)

    def _compute_self_distillation_loss(self, model, inputs, distillation_logits):
        if self.accelerator.num_processes == 1 or distillation_logits.loss_mask.sum() > 0:
            return super()._compute_self_distillation_loss(model, inputs, distillation_logits)
        # zero, yet on the student's graph, so the backward pass and its gradient all-reduce run
        zero = distillation_logits.student_logits.sum() * 0.0
        mean = self.accelerator.gather(zero.detach()).mean().item()
        self._log_self_distillation_metric("train" if model.training else "eval", mean)
        return zero
