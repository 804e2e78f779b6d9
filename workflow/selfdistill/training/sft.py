"""Supervised fine-tuning on (prompt, completion) chat pairs with TRL's SFTTrainer.

Used both to pretrain the arithmetic world's base model from scratch and for off-policy
self-distillation; the loss covers the completion only.
"""
from __future__ import annotations

from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from selfdistill.training.parallel import batch_layout
from selfdistill.training.tracking import trainer_args


def as_chat(example: dict, enable_thinking: bool | None = None) -> dict:
    """A conversational prompt-completion row; TRL passes `chat_template_kwargs` to the template,
    so the prompt renders as it did when the completion was sampled."""
    row = {"prompt": [{"role": "user", "content": example["prompt"]}],
           "completion": [{"role": "assistant", "content": example["completion"]}]}
    return row if enable_thinking is None else {**row, "chat_template_kwargs": {"enable_thinking": enable_thinking}}


def run_sft(model, tokenizer, examples: list[dict], output_dir: str, *, learning_rate: float,
            epochs: float, batch_size: int, warmup_ratio: float, max_length: int, seed: int,
            weight_decay: float = 0.0, lr_scheduler: str = "cosine", micro_batch_size: int | None = None,
            gradient_checkpointing: bool = False, enable_thinking: bool | None = None) -> SFTTrainer:
    """Trains `model` in place and returns the trainer, whose save_model gathers weights that
    several processes share; scratch checkpoints go to `output_dir`. Gradient checkpointing
    (TRL's default) saves memory on large models at ~30% more compute; small ones go without."""
    data = Dataset.from_list([as_chat(e, enable_thinking) for e in examples])
    steps_per_epoch = -(-len(examples) // batch_size)
    args = SFTConfig(
        output_dir=output_dir, learning_rate=learning_rate, num_train_epochs=epochs,
        **batch_layout(batch_size, micro_batch_size),
        warmup_steps=int(warmup_ratio * epochs * steps_per_epoch),
        lr_scheduler_type=lr_scheduler, weight_decay=weight_decay, max_length=max_length, seed=seed,
        completion_only_loss=True, train_sampling_strategy="group_by_length",
        logging_steps=max(1, steps_per_epoch // 4), save_strategy="no", **trainer_args(),
        dataloader_pin_memory=False, use_cpu=not _cuda(), gradient_checkpointing=gradient_checkpointing,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    return trainer


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()
