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
    A sharded teacher (FSDP, ZeRO-3) is not saved, as its weights cannot be written or restored
    whole this way: such a run trains as before, but a resumed one stops with an error rather
    than restart its teacher from the base model."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.sharded = trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled
        if self.sharded:
            logging.warning("the moving teacher is sharded (FSDP or DeepSpeed) and is not saved with the "
                            "checkpoints: this job cannot resume; train it on one GPU or data parallel to make it "
                            "resumable")

    def _teacher(self):
        return self.trainer.accelerator.unwrap_model(self.trainer.teacher_model)

    def on_save(self, args, state, control, **kwargs):
        if args.should_save and not self.sharded:
            from safetensors.torch import save_model

            save_model(self._teacher(), str(Path(args.output_dir) / f"checkpoint-{state.global_step}" / TEACHER_FILE))

    def on_train_begin(self, args, state, control, **kwargs):
        if state.global_step == 0:  # a fresh start: the teacher is the base model
            return
        from safetensors.torch import load_model

        path = Path(args.output_dir) / f"checkpoint-{state.global_step}" / TEACHER_FILE
        if not path.exists():
            why = "a sharded teacher is not saved" if self.sharded else "the job stopped while saving that checkpoint"
            raise FileNotFoundError(f"{path} is missing ({why}): the moving teacher cannot resume; remove "
                                    f"{path.parent} to resume from an earlier checkpoint, or the scratch folder "
                                    "to start over")
        load_model(self._teacher(), str(path), device=str(self.trainer.accelerator.device))
        logging.info("restored the moving teacher from %s", path)
