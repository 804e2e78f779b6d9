"""The capability premises of an arithmetic world, measured on a pretrained model (world_probe.py
pretrains it): where its first results go wrong, whether SFT on confident, correct traces fixes
facts it never saw, and whether its recount is right.

    python benchmarks/capability_probe.py '{"arith": {"errors": "capability"}}' TAG

Same overrides as world_probe.py; MODEL=dir reuses a pretrained model (world_probe's
benchmarks/probes/TAG/), else world_probe pretrains one first. Writes
benchmarks/probes/TAG.capability.json. Every rate comes with a 95% bootstrap interval over the steps (or recounts) measured.

- first results, teacher-forced on confident traces of OOD problems: P(right) at temperature 1
  (`p`) and how often the most likely value is right (greedy), as the pipeline's premises rule
  measures them (evaluation/premises.py);
- SFT probe: the model fine-tuned on confident traces of `n` training problems (the grid's SFT
  settings, and the same at ten times its learning rate), the change in greedy first-result accuracy at OOD steps on facts in the SFT set and
  on facts not in it, for n = D_sg's size and ten times that;
- recount: of the recounts in sampled OOD responses, the share whose value is the step's result.
"""
import json
import os
import sys

import numpy as np
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

import world_probe
from selfdistill.bases import base_config
from selfdistill.data.arith import Problem
from selfdistill.data.arith_corpus import error_model
from selfdistill.data.arith_splits import problems as split_problems, settings, split_rows
from selfdistill.data.coverage import LEVELS
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import sample_and_grade
from selfdistill.evaluation.premises import first_results, recounts_right, sft_change
from selfdistill.evaluation.uncertainty import bootstrap


def rate(rows: list[dict], key: str, keep=lambda r: True) -> dict:
    values = np.array([r[key] for r in rows if keep(r)])
    est = bootstrap(values)
    return {"n": len(values), "mean": round(est.estimate, 3), "low": round(est.low, 3), "high": round(est.high, 3)}


def summary(iv, n: int) -> dict:
    return {"n": n} if iv is None else {"n": n, "change": round(iv.estimate, 3), "low": round(iv.low, 3),
                                        "high": round(iv.high, 3)}


def sft_probe(settings: dict, model, tok, train: list[Problem], ood: list[Problem], confident, n: int, before) -> dict:
    changes = sft_change(model, tok, train, ood, confident, n, settings, before, seed=0)
    return {"problems": min(n, len(train)), "learning_rate": settings["learning_rate"],
            **{key: summary(*value) for key, value in changes.items()}}


def recounts(model_dir: str, rows: list[dict]) -> dict:
    gen = load_generator(model_dir, "hf", batch_size=200)
    samples = sample_and_grade(gen, rows, SamplingParams(n=2, temperature=0.6, top_p=0.95, max_new_tokens=400, seed=0),
                               grader("arith"))
    found = recounts_right([s["text"] for s in samples])
    return rate([{"right": v} for v in found], "right") if len(found) else {"n": 0}


def main(override: dict, tag: str) -> None:
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    cfg = base_config(world_probe.merged(yaml.safe_load((world_probe.ROOT / "config" / "config.yaml").read_text()),
                                         override), override.get("seed", 0))
    if not os.environ.get("MODEL"):
        world_probe.main(override, tag)
    model_dir = os.environ.get("MODEL") or str(world_probe.OUT / tag)
    a = cfg["arith"]
    ood_rows = split_rows(settings(a, "ood"))
    errors = error_model(a["errors"], a[a["errors"]])
    model, tok = AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)
    ood, train = (split_problems(settings(a, name)) for name in ("ood", "train"))
    before = first_results(model, tok, ood, errors.confident)
    out = {"tag": tag, "override": override,
           "first_result": {k: rate(before, k) for k in ("greedy", "p")},
           "recount": recounts(model_dir, ood_rows)}
    d_sg = max(LEVELS[level][0] or 0 for level in cfg["grid"]["coverage"])  # D_sg: one trace per problem
    grid = {k: v for k, v in cfg["grid"]["train"]["sft_sg"].items() if k != "min_examples"}
    # the grid's SFT, and one ten times as strong: "unseen facts stay put" means something only
    # where the same SFT raises the facts it trains on
    out["sft"] = [sft_probe(settings, model, tok, train, ood, errors.confident, n, before) for n in (d_sg, 10 * d_sg)
                  for settings in (grid, {**grid, "learning_rate": 10 * grid["learning_rate"]})]
    (world_probe.OUT / f"{tag}.capability.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2])
