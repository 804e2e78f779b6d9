"""The premises of an arithmetic world, measured on its base model: what the study's accuracy
claims need of the model's errors, independent of any training grid's outcome.

- errors persist under greedy decoding: teacher-forced on confident traces of OOD problems, the
  most likely first result of a step is itself wrong at some share of the steps;
- capability: SFT on confident, correct traces (as many problems as D_sg, and ten times that)
  leaves the greedy first result on facts *not* in the SFT set within 0.03 of the base,
  while facts in the set rise; where a confident prompt merely switches a slip off (the style
  world) unseen facts rise too, which is what this row tells apart;
- the recount is right at least 98% of the times it runs (the base's OOD samples);
- forcing a doubt after every first result raises OOD accuracy over plain sampling.

The rules and verdicts are reporting/premises.py's. A fact is (operation, value, operand). First-result rates are resampled over the steps measured,
the forced doubt's gain over problems (paired with the base's own OOD samples).
"""
from __future__ import annotations

import copy
import random
import re
import tempfile

import numpy as np
import torch
from transformers import LogitsProcessor, LogitsProcessorList

from selfdistill.data.arith import DOUBTS, OPS, SYMBOL, VERDICTS, Problem, apply, grade
from selfdistill.data.templates import student_prompt
from selfdistill.decoding.interface import render_chat
from selfdistill.evaluation.metrics import extract_answer
from selfdistill.evaluation.uncertainty import Interval, bootstrap
from selfdistill.training.sft import run_sft

FORCED = " " + DOUBTS[0]  # the doubt forced after every first result

STEP = re.compile(r"\(\d+\) [A-Za-z ]+ \d+: (\d+) ([+*-]) (\d+) = (-?\d+)\.")
RECOUNT = re.compile(r"\(\d+\) [A-Za-z ]+ \d+: (\d+) ([+*-]) (\d+) = -?\d+\. [^\n]*?: [^\n]*?\. (?:"
                     + "|".join(VERDICTS) + r") (-?\d+)\.")
_OP = {SYMBOL[op]: op for op in OPS}


@torch.no_grad()
def first_results(model, tokenizer, problems: list[Problem], confident) -> list[dict]:
    """Per step of each problem's confident trace (`confident(problem)`): its fact, whether the
    model's most likely first result, given the trace so far, is the right value, and the
    probability it gives the right value."""
    model.eval()
    out = []
    for p in problems:
        head, completion = render_chat(tokenizer, student_prompt(p.text)), confident(p)
        enc = tokenizer(head + completion, add_special_tokens=False, return_offsets_mapping=True)
        token_at = {start: i for i, (start, _) in enumerate(enc["offset_mapping"])}
        logits = model(torch.tensor([enc["input_ids"]], device=model.device)).logits[0]
        for m in STEP.finditer(completion):
            at = token_at[len(head) + m.start(4) - 1]  # the number's token holds its leading space
            row, right = logits[at - 1], enc["input_ids"][at]
            out.append({"fact": (_OP[m[2]], int(m[1]), int(m[3])), "greedy": float(row.argmax() == right),
                        "p": float(row.softmax(-1)[right])})
    return out


def sft_change(model, tokenizer, train: list[Problem], ood: list[Problem], confident, n: int,
               sft: dict, before: list[dict], seed: int) -> dict[str, tuple[Interval | None, int]]:
    """Paired change in greedy first-result accuracy at the OOD steps, on facts in and not in the
    set, after SFT of a copy of `model` on the confident traces of `n` training problems: each
    as (interval, steps measured)."""
    chosen = random.Random(seed).sample(train, min(n, len(train)))
    in_set = {f for p in chosen for f in p.facts()}
    tuned = copy.deepcopy(model).train()
    with tempfile.TemporaryDirectory() as scratch:
        run_sft(tuned, tokenizer, [{"prompt": student_prompt(p.text), "completion": confident(p)} for p in chosen],
                scratch, seed=seed, **sft)
    after = first_results(tuned, tokenizer, ood, confident)
    diff = {True: [], False: []}
    for b, a in zip(before, after):
        diff[b["fact"] in in_set].append(a["greedy"] - b["greedy"])
    # a small world's SFT set can hold every OOD fact: nothing is then measured on unseen ones
    return {"in_set" if key else "not_in_set": (bootstrap(np.array(d)) if d else None, len(d))
            for key, d in diff.items()}


def recounts_right(texts: list[str]) -> np.ndarray:
    """1 for each recount in `texts` whose value is its step's right result, else 0."""
    return np.array([float(int(m[4]) == apply(_OP[m[2]], int(m[1]), int(m[3])))
                     for t in texts for m in RECOUNT.finditer(t)])


class ForceDoubt(LogitsProcessor):
    """After every first result ("= 44.") that is not inside a check, the tokens of FORCED, one
    per decoding step; everything else is left to the model."""

    def __init__(self, tokenizer):
        def ids(text):
            return tokenizer(text, add_special_tokens=False)["input_ids"]

        self.eq, self.dot, self.newline = ids(" =")[-1], ids(".")[-1], ids("\n")[-1]
        self.numbers = {i for t, i in tokenizer.get_vocab().items() if t.strip().lstrip("-").isdigit()}
        self.openers = {ids(" " + d.split(",")[0])[0] for d in DOUBTS}
        self.doubt = ids(FORCED)

    def forced(self, ids: list[int]) -> int | None:
        """The token to force after `ids`, if the tail is a first result and part of FORCED."""
        for j in range(len(self.doubt)):
            tail = ids[len(ids) - 3 - j:]
            if len(tail) == 3 + j and tail[0] == self.eq and tail[1] in self.numbers and tail[2] == self.dot \
                    and tail[3:] == self.doubt[:j]:
                line = ids[:len(ids) - 3 - j]
                start = max((k for k, t in enumerate(line) if t == self.newline), default=-1)
                return None if self.openers & set(line[start + 1:]) else self.doubt[j]
        return None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row, ids in enumerate(input_ids[:, -64:].tolist()):
            token = self.forced(ids)
            if token is not None:
                scores[row] = torch.where(torch.arange(scores.shape[1], device=scores.device) == token,
                                          scores[row], torch.finfo(scores.dtype).min)
        return scores


@torch.no_grad()
def forced_doubt_accuracy(model, tokenizer, problems: list[Problem], sampling: dict, batch_size: int,
                          seed: int) -> list[list[float]]:
    """Per problem, whether each of `sampling["n"]` samples with a doubt forced after every first
    result ends with the right answer; twice the token budget of `sampling`, for the recounts."""
    model.eval()
    torch.manual_seed(seed)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    force, out = ForceDoubt(tokenizer), []
    try:
        for i in range(0, len(problems), batch_size):
            batch = problems[i:i + batch_size]
            enc = tokenizer([render_chat(tokenizer, student_prompt(p.text)) for p in batch], add_special_tokens=False,
                            padding=True, return_tensors="pt").to(model.device)
            made = model.generate(**enc, do_sample=True, temperature=sampling["temperature"],
                                  top_p=sampling["top_p"], max_new_tokens=2 * sampling["max_new_tokens"],
                                  num_return_sequences=sampling["n"], pad_token_id=tokenizer.pad_token_id,
                                  logits_processor=LogitsProcessorList([force]))
            texts = tokenizer.batch_decode(made[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            for k, p in enumerate(batch):
                out.append([float(grade(extract_answer(t), p.answer))
                            for t in texts[k * sampling["n"]:(k + 1) * sampling["n"]]])
    finally:
        tokenizer.padding_side = side
    return out
