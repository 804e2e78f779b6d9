"""The moving (EMA) SDPO teacher saved with each trainer checkpoint and restored on resume.

TRL's SDPOTrainer keeps its EMA teacher in memory only: a resumed job would restart it from the
base model while the student continues, so a killed moving-teacher run would not be the run it
claims to be. The teacher's weights go into each checkpoint folder as TEACHER_FILE.
"""
from __future__ import annotations

import logging
from pathlib import Path

from transformers import TrainerCallback

TEACHER_FILE = "teacher.safetensors"


class TeacherCheckpoint(TrainerCallback):
    """Writes the teacher beside each checkpoint and loads it back when training resumes from one.
    The teacher must be whole on every process (one GPU, or data parallel): sharded teachers
    (FSDP, ZeRO-3) are refused, as their weights cannot be saved or restored this way."""

    def __init__(self, trainer):
        if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled:
            raise ValueError("teacher_update_rate > 0 (a moving teacher) needs an unsharded teacher to save with "
                             "each checkpoint; train it without FSDP or DeepSpeed (compute.train.accelerate_config)")
        self.trainer = trainer

    def _teacher(self):
        return self.trainer.accelerator.unwrap_model(self.trainer.teacher_model)

    def on_save(self, args, state, control, **kwargs):
        if args.should_save:
            from safetensors.torch import save_model

            save_model(self._teacher(), str(Path(args.output_dir) / f"checkpoint-{state.global_step}" / TEACHER_FILE))

    def on_train_begin(self, args, state, control, **kwargs):
        if state.global_step == 0:  # a fresh start: the teacher is the base model
            return
        from safetensors.torch import load_model

        path = Path(args.output_dir) / f"checkpoint-{state.global_step}" / TEACHER_FILE
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: the job stopped while saving that checkpoint; remove "
                                    f"{path.parent} to resume from the one before")
        load_model(self._teacher(), str(path), device=str(self.trainer.accelerator.device))
        logging.info("restored the moving teacher from %s", path)
