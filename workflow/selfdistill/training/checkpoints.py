"""Resumable training: the trainer writes full checkpoints (optimizer, scheduler, RNG) to a
scratch folder outside the rule's outputs, which Snakemake deletes when a job fails; a rerun
resumes from the last one. Only model files are published as the cell's step checkpoints.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
# what a step checkpoint needs to be loaded for sampling; optimizer state stays in scratch
_MODEL_FILES = re.compile(r"^(config\.json|generation_config\.json|model.*\.safetensors(\.index\.json)?|"
                          r"tokenizer.*|special_tokens_map\.json|chat_template\.jinja)$")


def scratch_checkpoints(scratch: str | Path) -> dict[int, Path]:
    """{global step: folder} of the trainer's checkpoint-N folders in `scratch`."""
    scratch = Path(scratch)
    if not scratch.is_dir():
        return {}
    found = {int(m.group(1)): p for p in scratch.iterdir() if p.is_dir() and (m := _CHECKPOINT.match(p.name))}
    # a checkpoint cut short by a kill has no trainer_state.json (the Trainer writes it last)
    return {step: p for step, p in sorted(found.items()) if (p / "trainer_state.json").exists()}


def last_checkpoint(scratch: str | Path) -> Path | None:
    found = scratch_checkpoints(scratch)
    return found[max(found)] if found else None


def checkpoint_step(checkpoint: str | Path) -> int:
    """The global step a trainer checkpoint-N folder was saved at."""
    m = _CHECKPOINT.match(Path(checkpoint).name)
    if m is None:
        raise ValueError(f"{str(checkpoint)!r} is not a trainer checkpoint-N folder")
    return int(m.group(1))


def publish(source: Path, dest: str | Path) -> None:
    """Copy the model files of a trainer checkpoint to `dest` (via a temporary name)."""
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in source.iterdir():
        if f.is_file() and _MODEL_FILES.match(f.name):
            shutil.copy2(f, tmp / f.name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def save_model(model, tokenizer, dest: str | Path) -> None:
    """Save model and tokenizer (its chat template included) beside `dest`, then move them there,
    so a killed job never leaves a half-written model."""
    dest = str(dest).rstrip("/")
    tmp = dest + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(dest, ignore_errors=True)
    shutil.move(tmp, dest)


def step_labels(max_steps: int, interval: int) -> list[int]:
    """Steps with a published checkpoint: every `interval` steps before the last; the last step is
    the final model."""
    if interval < 1 or max_steps < 1:
        raise ValueError(f"max_steps={max_steps}, checkpoint_interval={interval}: both must be >= 1")
    return list(range(interval, max_steps, interval))
