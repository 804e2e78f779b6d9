"""SDPO's rollout correction under vLLM, as the study's official runs have it.

vLLM samples the rollouts with its own kernels and precision, so its probability of a sampled
token differs from the training model's. The official runs weight every token's distillation
loss by w_t = min(pi_train(y_t) / pi_vLLM(y_t), cap), detached (`rollout_is=token`, cap 2),
as GRPO's loss is weighted; TRL's GRPOTrainer does this, its SDPOTrainer does not.

`RolloutCorrectedSDPO` adds it with three hooks: the vLLM call keeps vLLM's log-probability of
each sampled token; the rollout batch gets the weights, from the training model's log-probs at
rollout time (TRL's own where it keeps them, else one forward pass without gradient); and the
distillation loss sees the student's logits through `weighted_gradient`, which leaves their
values and scales the gradient at each token by its weight. The teacher's logits carry no
gradient, so the gradient is exactly that of TRL's loss with each token's term multiplied by
w_t (the logged loss stays TRL's unweighted value). With transformers' generate the rollouts
come from the training model itself: w = 1, and nothing is computed.
"""
from __future__ import annotations

import dataclasses

import torch

WEIGHTS = "rollout_is_weights"


def rollout_weights(train_logps: torch.Tensor, vllm_logps: torch.Tensor, mask: torch.Tensor,
                    cap: float) -> torch.Tensor:
    """min(exp(train - vllm), cap) per token; 1 where vLLM gave no log-prob (NaN) or off the mask."""
    diff = torch.nan_to_num((train_logps - vllm_logps) * mask, nan=0.0).clamp(-20.0, 20.0)
    return torch.exp(diff).clamp(max=cap).detach()


class _WeightedGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits, weights):
        ctx.save_for_backward(weights)
        return logits.view_as(logits)

    @staticmethod
    def backward(ctx, grad):
        (weights,) = ctx.saved_tensors
        return grad * weights.unsqueeze(-1).to(grad.dtype), None


def weighted_gradient(logits: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """`logits` (batch, tokens, vocab) as they are, with the gradient at each token times its weight."""
    return _WeightedGradient.apply(logits, weights)


def sampled_logps(logprobs: list[list[list[float | None]]], like: torch.Tensor) -> torch.Tensor:
    """vLLM's per-token log-probs (TRL's nested lists; the sampled token's comes first), padded on
    the right to the shape of the completion ids `like`; NaN where vLLM gave none."""
    out = torch.zeros(like.shape, dtype=torch.float32, device=like.device)
    for row, seq in enumerate(logprobs):
        values = [float("nan") if lp[0] is None else lp[0] for lp in seq]
        out[row, :len(values)] = torch.tensor(values, device=like.device)
    return out


class RolloutCorrectedSDPO:
    """Mixin for TRL's SDPOTrainer; `rollout_is_cap` None turns the correction off."""
    rollout_is_cap: float | None = None
    _vllm_logprobs = None

    def _generate_vllm(self, prompt_ids):
        generate = self.vllm_generation.generate

        def keeping_logprobs(*args, **kwargs):
            out = generate(*args, **kwargs)
            self._vllm_logprobs = out[2]
            return out

        self.vllm_generation.generate = keeping_logprobs
        try:
            return super()._generate_vllm(prompt_ids)
        finally:
            del self.vllm_generation.generate

    def sample_rollouts(self, inputs):
        self._vllm_logprobs = None
        batch = super().sample_rollouts(inputs)
        if self._vllm_logprobs is not None and self.rollout_is_cap is not None:
            ids, mask = batch["completion_ids"], batch["completion_mask"]
            train = batch.get("old_per_token_logps")
            if train is None:
                train = self._logps_now(batch)
            batch[WEIGHTS] = rollout_weights(train, sampled_logps(self._vllm_logprobs, ids), mask,
                                             self.rollout_is_cap)
        return batch

    def _logps_now(self, batch) -> torch.Tensor:
        from trl.trainer.utils import selective_log_softmax

        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        with torch.no_grad():
            logits = self._forward_logits(self.model, ids, mask, batch["completion_ids"].size(1))
        return selective_log_softmax(logits, batch["completion_ids"])

    def _compute_self_distillation_loss(self, model, inputs, distillation_logits):
        weights = inputs.get(WEIGHTS)
        if weights is not None:
            distillation_logits = dataclasses.replace(
                distillation_logits, student_logits=weighted_gradient(distillation_logits.student_logits, weights))
        return super()._compute_self_distillation_loss(model, inputs, distillation_logits)
