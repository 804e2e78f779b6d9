"""The teacher's view of the student's doubts: how likely an epistemic word is, at the very
places the unguided student wrote one, once the context reveals more of the solution.

Self-distillation pulls the student toward the teacher token by token, so a low teacher
probability where the student says "Wait" is the force that removes the word (the study's
mechanism). Positions are found by the word-boundary rule on the response text and mapped to the
token that holds the word's first character.

At the study's lengths (~26k tokens, a 152k vocabulary) the logits of a whole sequence would take
16 GB in float32, so only the positions before an epistemic word go through the output layer,
in chunks of `CHUNK` positions.
"""
from __future__ import annotations

import math

import torch

from selfdistill.decoding.generation import render_chat
from selfdistill.evaluation.metrics import EPISTEMIC_WORD

CHUNK = 1024  # positions per pass through the output layer: 1024 x 152k float32 logits are 0.6 GB


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
    first token at the position where the response wrote it, as (word, probability) pairs. The
    decoder runs on `batch_size` sequences at a time; the output layer (the model's output
    embeddings on the last hidden state) only on the positions scored."""
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
        hidden = model.get_decoder()(**{k: v.to(model.device) for k, v in enc.items()}).last_hidden_state
        found = [(b, token, word) for b, (text, start) in enumerate(zip(texts, starts))
                 for token, word in word_positions([tuple(o) for o in offsets[b]], text, start)]
        logprobs = _scored(model, hidden, enc["input_ids"].to(hidden.device), found)
        pairs = [[] for _ in texts]
        for (b, _, word), lp in zip(found, logprobs):
            pairs[b].append((word, math.exp(lp)))
        out += pairs
    tokenizer.padding_side = side
    return out


def _scored(model, hidden: torch.Tensor, input_ids: torch.Tensor, found: list[tuple[int, int, str]]) -> list[float]:
    """Log-probability of token t of row b, for each (b, t, _) in `found`, from the hidden state
    at t - 1 (which predicts token t), CHUNK positions at a time."""
    if not found:
        return []
    rows = torch.tensor([b for b, _, _ in found], device=hidden.device)
    cols = torch.tensor([t for _, t, _ in found], device=hidden.device)
    head, out = model.get_output_embeddings(), []
    for i in range(0, len(found), CHUNK):
        r, c = rows[i:i + CHUNK], cols[i:i + CHUNK]
        logprobs = torch.log_softmax(head(hidden[r, c - 1]).float(), dim=-1)
        out += logprobs.gather(1, input_ids[r, c].unsqueeze(1)).squeeze(1).tolist()
    return out
