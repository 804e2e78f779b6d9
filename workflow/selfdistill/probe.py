"""The teacher's view of the student's doubts: how likely an epistemic word is, at the very
places the unguided student wrote one, once the context reveals more of the solution.

Self-distillation pulls the student toward the teacher token by token, so a low teacher
probability where the student says "Wait" is the force that removes the word (the study's
mechanism). Positions are found by the word-boundary rule on the response text and mapped to the
token that holds the word's first character.
"""
from __future__ import annotations

import math

import torch

from .generation import render_chat
from .metrics import EPISTEMIC_WORD


def word_positions(offsets: list[tuple[int, int]], text: str, start: int) -> list[tuple[int, str]]:
    """(token index, word) for each epistemic word in text[start:]: the token whose character span
    holds the word's first letter. `offsets` are the tokenizer's spans over `text`."""
    out = []
    for m in EPISTEMIC_WORD.finditer(text, start):
        token = next((i for i, (a, b) in enumerate(offsets) if a <= m.start() < b), None)
        if token is not None:
            out.append((token, m.group(1).lower()))
    return out


@torch.no_grad()
def word_probabilities(model, tokenizer, prompts: list[str], responses: list[str], batch_size: int = 16,
                       enable_thinking: bool | None = None) -> list[list[tuple[str, float]]]:
    """For each (user prompt, response) pair, the model's probability of each epistemic word's
    first token at the position where the response wrote it, as (word, probability) pairs."""
    out, side = [], tokenizer.padding_side
    tokenizer.padding_side = "right"  # token indices then match the unpadded text's offsets
    for i in range(0, len(prompts), batch_size):
        texts, starts = [], []
        for p, r in zip(prompts[i:i + batch_size], responses[i:i + batch_size]):
            rendered = render_chat(tokenizer, p, enable_thinking)
            texts.append(rendered + r)
            starts.append(len(rendered))
        enc = tokenizer(texts, return_offsets_mapping=True, add_special_tokens=False, padding=True,
                        return_tensors="pt")
        offsets = enc.pop("offset_mapping").tolist()
        logits = model(**{k: v.to(model.device) for k, v in enc.items()}).logits.float()
        logprobs = torch.log_softmax(logits, dim=-1)
        for b, (text, start) in enumerate(zip(texts, starts)):
            pairs = []
            for token, word in word_positions([tuple(o) for o in offsets[b]], text, start):
                # logits at t - 1 predict token t
                lp = logprobs[b, token - 1, enc["input_ids"][b, token]].item()
                pairs.append((word, math.exp(lp)))
            out.append(pairs)
    tokenizer.padding_side = side
    return out
