"""One random stream per completion, so what a completion samples does not depend on its batch.

Completion `repeat` of the prompt keyed `key` (a problem id) under sampling seed `seed` draws every
token from its own generator, seeded by `stream_seed(seed, key, repeat)`. Which prompts share a
batch, how large the batch is, when finished rows leave it and how often a job was interrupted
change none of its draws; only float rounding of the logits can differ between batch shapes.
The vLLM backend gives each completion the same seed as a request seed.

The Hugging Face backend samples as transformers does (temperature, then top-k, then top-p, then
a draw from the softmax) but by inverse CDF from the row's own uniform number, so it runs
`generate` greedily with `RowDraws` as its last logits processor.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import torch
from transformers import LogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper


def stream_seed(seed: int, key, repeat: int) -> int:
    """A 63-bit seed for completion `repeat` of the prompt keyed `key` (any JSON value)."""
    digest = hashlib.sha256(json.dumps([seed, key, repeat]).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def stream_seeds(seed: int, keys: list | None, num_prompts: int, n: int) -> list[int]:
    """The seeds of n completions of each prompt, in order; prompts keyed by position without `keys`."""
    if keys is None:
        keys = list(range(num_prompts))
    if len(keys) != num_prompts:
        raise ValueError(f"{len(keys)} stream keys for {num_prompts} prompts: give one per prompt")
    return [stream_seed(seed, key, j) for key in keys for j in range(n)]


class RowStreams:
    """The random streams of a batch's rows, `seeds[i]` for row i, and the warpers of `params`."""

    def __init__(self, seeds: list[int], temperature: float, top_k: int = 0, top_p: float = 1.0):
        self.generators = [np.random.default_rng(s) for s in seeds]
        self.warpers = [TemperatureLogitsWarper(temperature)]
        if top_k:
            self.warpers.append(TopKLogitsWarper(top_k))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p))

    def draws(self, rows: torch.Tensor, steps: int) -> "RowDraws":
        """The logits processor for `steps` decoding steps of a batch made of rows `rows` (indices
        into `seeds`). Each row's next `steps` uniform numbers are drawn now, used or not, so a
        row's t-th token always takes its stream's t-th number."""
        uniforms = np.stack([self.generators[r].random(steps) for r in rows.tolist()])
        return RowDraws(self.warpers, torch.from_numpy(uniforms).float())


class RowDraws(LogitsProcessor):
    """Keeps one token per row, drawn from the warped distribution with the row's next uniform
    number; every other token gets -inf, so greedy decoding picks the drawn one."""

    def __init__(self, warpers: list, uniforms: torch.Tensor):
        self.warpers, self.uniforms, self.step = warpers, uniforms, 0

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        u = self.uniforms[:, self.step].to(scores.device)
        self.step += 1
        cdf = torch.softmax(scores.float(), dim=-1).cumsum(dim=-1)
        total = cdf[:, -1:].contiguous()
        # the first token whose cumulative probability passes u; rounding can leave u * total at
        # the total, where the last token that adds probability is the one meant
        picked = torch.searchsorted(cdf, u[:, None] * total, right=True)
        picked = torch.minimum(picked, torch.searchsorted(cdf, total))
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, picked, 0.0)
