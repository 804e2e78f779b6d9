"""What each job of the arithmetic world reads and writes: one problem split per job, and the
pretraining corpus. Each job reads only its own settings (`settings`), so changing one split
reruns that split alone; the pipeline's rules and the in-process probes (benchmarks/) both go
through here, so they draw the same problems.
"""
from __future__ import annotations

import random

from selfdistill.data.arith import Difficulty, Problem, draw
from selfdistill.data.arith_corpus import correct_expert_trace, error_model, pretrain_examples
from selfdistill.data.templates import student_prompt

# split -> (its difficulty section, its size key) in the `arith` config section
SOURCES = {"train": ("in_domain", "train_size"), "in_domain": ("in_domain", "heldout_size"),
           "ood": ("ood", "ood_size"), "pretrain": ("pretrain", "pretrain_size")}
MIX = ("guided_full", "guided_unchecked", "guided_nothink")


def settings(arith: dict, name: str) -> dict:
    """The slice of the `arith` section the job making split `name` reads ("pretrain": the corpus)."""
    difficulty, size = SOURCES[name]
    out = {"seed": arith["seed"], "split": name, "errors": arith["errors"], "error_model": arith[arith["errors"]],
           "difficulty": arith[difficulty], "size": arith[size]}
    return {**out, **{k: arith[k] for k in MIX}} if name == "pretrain" else out


def problems(params: dict) -> list[Problem]:
    return draw(params["seed"], params["split"], Difficulty(**params["difficulty"]), params["size"])


def split_rows(params: dict) -> list[dict]:
    """A split's rows; `reference` is a correct worked solution, for stages that need one the
    model cannot give."""
    errors, rng = error_model(params["errors"], params["error_model"]), random.Random(f"{params['seed']}/{params['split']}/reference")
    return [{"problem_id": p.problem_id, "prompt": student_prompt(p.text), "answer": str(p.answer),
             "reference": correct_expert_trace(p, rng, errors)} for p in problems(params)]


def corpus_rows(params: dict) -> list[dict]:
    errors = error_model(params["errors"], params["error_model"])
    return pretrain_examples(problems(params), random.Random(f"{params['seed']}/corpus"), errors,
                             params["guided_full"], params["guided_nothink"], params["guided_unchecked"])
