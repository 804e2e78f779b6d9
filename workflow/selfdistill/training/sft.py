"""Supervised fine-tuning on (prompt, completion) chat pairs with TRL's SFTTrainer.

Used both to pretrain the arithmetic world's base model from scratch and for off-policy
self-distillation; the loss covers the completion only, and within it not the character spans an
example lists as `no_loss` (a wrong result shown so that its correction can follow: the model
learns the correction, never the error).
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


def masked_example(tokenizer, example: dict, enable_thinking: bool | None = None) -> dict:
    """Token ids of a chat pair and its `completion_mask`: 1 on the completion's tokens, 0 on the
    prompt's and on those that overlap a `no_loss` span (character offsets into the completion).
    TRL builds the labels from that mask, as it would have from the prompt/completion split."""
    prompt = [{"role": "user", "content": example["prompt"]}]
    kwargs = {} if enable_thinking is None else {"enable_thinking": enable_thinking}
    rendered = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False, **kwargs)
    full = tokenizer.apply_chat_template(prompt + [{"role": "assistant", "content": example["completion"]}],
                                         tokenize=False, **kwargs)
    start = full.find(example["completion"], len(rendered))
    if not full.startswith(rendered) or start < 0:
        raise ValueError("the chat template does not render the prompt as a prefix followed by the completion, "
                         "so the completion's no-loss spans cannot be placed")
    spans = [(start + a, start + b) for a, b in example.get("no_loss", ())]
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(s >= len(rendered) and not any(s < b and e > a for a, b in spans)) for s, e in enc["offset_mapping"]]
    return {"input_ids": enc["input_ids"], "completion_mask": mask}


def dataset(tokenizer, examples: list[dict], enable_thinking: bool | None = None) -> Dataset:
    """TRL's conversational prompt-completion rows; token ids with a completion mask instead where
    an example shows spans that carry no loss, which a conversational row cannot say."""
    if any(e.get("no_loss") for e in examples):
        return Dataset.from_list([masked_example(tokenizer, e, enable_thinking) for e in examples])
    return Dataset.from_list([as_chat(e, enable_thinking) for e in examples])


def run_sft(model, tokenizer, examples: list[dict], output_dir: str, *, learning_rate: float,
            epochs: float, batch_size: int, warmup_ratio: float, max_length: int, seed: int,
            weight_decay: float = 0.0, lr_scheduler: str = "cosine", micro_batch_size: int | None = None,
            gradient_checkpointing: bool = False, enable_thinking: bool | None = None) -> SFTTrainer:
    """Trains `model` in place and returns the trainer, whose save_model gathers weights that
    several processes share; scratch checkpoints go to `output_dir`. Gradient checkpointing
    (TRL's default) saves memory on large models at ~30% more compute; small ones go without."""
    data = dataset(tokenizer, examples, enable_thinking)
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
