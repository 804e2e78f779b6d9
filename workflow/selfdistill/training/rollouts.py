"""On-policy rollouts decoded as the project's generator decodes them (`decode_segmented`),
inside TRL's own generation hooks.

SDPOTrainer samples its rollouts in `_generate_transformers`, GRPOTrainer in
`_generate_single_turn`: each pads the prompts, calls the model's `generate` once and cuts every
row after its first eos. `SegmentedRollouts` runs that same hook with the model's `generate`
answered segment by segment, so padding, masks, eos handling and the token budget stay TRL's.
It applies on a CPU only, where a decoding step is bound by reading the KV cache and where it
was measured (generation inside the trainer 22-30% less CPU time, benchmarks/README.md). On a
GPU, where it was not measured, and for vLLM rollouts, which never call `generate`, the hooks
are TRL's as they are.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager

import torch

from selfdistill.decoding.generation import decode_segmented

# settings counted from the prompt's end, which every segment would count again
PER_CALL = ("min_length", "min_new_tokens", "exponential_decay_length_penalty", "forced_eos_token_id")


def segmentable(config) -> bool:
    """Whether a `generate` call with GenerationConfig `config` decodes the same in segments."""
    return (config.max_new_tokens is not None and config.cache_implementation is None
            and not any(getattr(config, k, None) for k in PER_CALL))


@contextmanager
def segmented_generate(model, segment: int):
    """Inside, `model.generate(input_ids, attention_mask, generation_config)` is decoded by
    `decode_segmented` and returns what the plain call would: the prompts, then the new tokens
    padded on the right. Any other call goes to the plain `generate`."""
    def generate(input_ids, attention_mask=None, generation_config=None, **kwargs):
        config = generation_config
        if kwargs or attention_mask is None or config is None or not segmentable(config):
            return type(model).generate(model, input_ids=input_ids, attention_mask=attention_mask,
                                        generation_config=config, **kwargs)
        eos = config.eos_token_id if isinstance(config.eos_token_id, list) else [config.eos_token_id]
        new = decode_segmented(model, input_ids, attention_mask, eos, config.max_new_tokens, segment,
                               generation_config=config)
        out = input_ids.new_full((len(new), max(map(len, new))), config.pad_token_id)
        for row, tokens in enumerate(new):
            out[row, :len(tokens)] = torch.tensor(tokens)
        return torch.cat([input_ids, out], dim=1)

    model.generate = generate
    try:
        yield
    finally:
        del model.generate


class SegmentedRollouts:
    """Rollouts on the transformers path decoded `rollout_segment` steps at a time on a CPU
    (None: TRL's one `generate` call); the subclasses below wrap each trainer's hook."""
    rollout_segment: int | None = 32

    @contextmanager
    def _segmented(self):
        if self.rollout_segment is None or self.accelerator.device.type != "cpu":
            yield
            return
        with segmented_generate(self.accelerator.unwrap_model(self.model_wrapped), self.rollout_segment):
            yield


class SegmentedSDPO(SegmentedRollouts):
    def _generate_transformers(self, prompt_ids):
        with self._segmented():
            return super()._generate_transformers(prompt_ids)


class SegmentedGRPO(SegmentedRollouts):
    def _generate_single_turn(self, *args, **kwargs):
        with self._segmented():
            return super()._generate_single_turn(*args, **kwargs)


HOOKS = {"_generate_transformers": SegmentedSDPO, "_generate_single_turn": SegmentedGRPO}


@functools.cache
def segmented(trainer_cls: type) -> type:
    """`trainer_cls` with its rollout hook wrapped by SegmentedRollouts."""
    mixins = [mixin for hook, mixin in HOOKS.items() if hasattr(trainer_cls, hook)]
    if len(mixins) != 1:
        raise TypeError(f"{trainer_cls.__name__} has {len(mixins)} of the rollout hooks {', '.join(HOOKS)}; "
                        "segmented rollouts need exactly one")
    return type(f"Segmented{trainer_cls.__name__}", (mixins[0], trainer_cls), {})
