"""The capability premises of an arithmetic world, measured on a pretrained model (world_probe.py
pretrains it): where its first results go wrong, whether SFT on confident, correct traces fixes
facts it never saw, and whether its recount is right.

    python benchmarks/capability_probe.py '{"arith": {"errors": "capability"}}' TAG

Same overrides as world_probe.py; MODEL=dir reuses a pretrained model (world_probe's
benchmarks/probes/TAG/), else world_probe pretrains one first. Writes
benchmarks/probes/TAG.capability.json. Every rate comes with a 95% bootstrap interval over the steps (or recounts) measured.

- first results, teacher-forced on confident traces of OOD problems: P(right) at temperature 1
  and 0.6, and how often the most likely value is right (greedy);
- SFT probe: the model fine-tuned on confident traces of `n` training problems (the grid's SFT
  settings, and the same at ten times its learning rate), the change in greedy first-result accuracy at OOD steps on facts in the SFT set and
  on facts not in it, for n = D_sg's size and ten times that;
- recount: of the recounts in sampled OOD responses, the share whose value is the step's result.
"""
import copy
import json
import os
import random
import re
import sys
import tempfile

import numpy as np
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

import world_probe
from selfdistill.bases import base_config
from selfdistill.data.arith import OPS, SYMBOL, VERDICTS, Problem, apply
from selfdistill.data.arith_splits import problems as split_problems, settings, split_rows
from selfdistill.data.arith_corpus import error_model
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import sample_and_grade
from selfdistill.data.coverage import LEVELS
from selfdistill.data.templates import student_prompt
from selfdistill.data.worlds import grader
from selfdistill.evaluation.uncertainty import bootstrap
from selfdistill.training.sft import run_sft

STEP = re.compile(r"\(\d+\) [A-Za-z ]+ \d+: (\d+) ([+*-]) (\d+) = (-?\d+)\.")
RECOUNT = re.compile(r"\(\d+\) [A-Za-z ]+ \d+: (\d+) ([+*-]) (\d+) = -?\d+\. [^\n]*?: [^\n]*?\. (?:"
                     + "|".join(VERDICTS) + r") (-?\d+)\.")
OP = {SYMBOL[op]: op for op in OPS}


@torch.no_grad()
def first_results(model, tok, problems: list[Problem], errors) -> list[dict]:
    """Per step of each confident trace: its fact, P(right value) at T=1 and 0.6, greedy right."""
    model.eval()
    out = []
    for p in problems:
        prompt = [{"role": "user", "content": student_prompt(p.text)}]
        head = tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        completion = errors.confident(p)
        enc = tok(head + completion, add_special_tokens=False, return_offsets_mapping=True)
        starts = {s: i for i, (s, _) in enumerate(enc["offset_mapping"])}
        logits = model(torch.tensor([enc["input_ids"]])).logits[0]
        for m in STEP.finditer(completion):
            at = starts[len(head) + m.start(4) - 1]  # the number token carries its leading space
            right, row = enc["input_ids"][at], logits[at - 1]
            out.append({"fact": (OP[m[2]], int(m[1]), int(m[3])), "p1": float(row.softmax(-1)[right]),
                        "p06": float((row / 0.6).softmax(-1)[right]), "greedy": float(row.argmax() == right)})
    return out


def rate(rows: list[dict], key: str, keep=lambda r: True) -> dict:
    values = np.array([r[key] for r in rows if keep(r)])
    est = bootstrap(values)
    return {"n": len(values), "mean": round(est.estimate, 3), "low": round(est.low, 3), "high": round(est.high, 3)}


def change(before: list[dict], after: list[dict], keep) -> dict:
    """Paired change in greedy first-result accuracy over the steps `keep` selects."""
    diff = np.array([a["greedy"] - b["greedy"] for b, a in zip(before, after) if keep(b)])
    if not len(diff):  # a small world's SFT set can hold every fact
        return {"n": 0}
    est = bootstrap(diff)
    return {"n": len(diff), "change": round(est.estimate, 3), "low": round(est.low, 3), "high": round(est.high, 3)}


def sft_probe(settings: dict, model, tok, train: list[Problem], ood: list[Problem], errors, n: int, before) -> dict:
    chosen = random.Random(0).sample(train, min(n, len(train)))
    in_set = {f for p in chosen for f in p.facts()}
    tuned = copy.deepcopy(model).train()
    with tempfile.TemporaryDirectory() as scratch:
        run_sft(tuned, tok, [{"prompt": student_prompt(p.text), "completion": errors.confident(p)}
                             for p in chosen], scratch, seed=0, **settings)
    moved = max(float((a - b).abs().max()) for a, b in zip(tuned.parameters(), model.parameters()))
    after = first_results(tuned, tok, ood, errors)
    return {"problems": len(chosen), "learning_rate": settings["learning_rate"], "largest_weight_change": moved,
            "in_set": change(before, after, lambda r: r["fact"] in in_set),
            "not_in_set": change(before, after, lambda r: r["fact"] not in in_set)}


def recounts(model_dir: str, rows: list[dict]) -> dict:
    gen = load_generator(model_dir, "hf", batch_size=200)
    samples = sample_and_grade(gen, rows, SamplingParams(n=2, temperature=0.6, top_p=0.95, max_new_tokens=400, seed=0),
                               grader("arith"))
    found = [{"right": float(int(m[4]) == apply(OP[m[2]], int(m[1]), int(m[3])))}
             for s in samples for m in RECOUNT.finditer(s["text"])]
    return rate(found, "right") if found else {"n": 0}


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
    before = first_results(model, tok, ood, errors)
    out = {"tag": tag, "override": override,
           "first_result": {k: rate(before, k) for k in ("greedy", "p06", "p1")},
           "recount": recounts(model_dir, ood_rows)}
    d_sg = max(LEVELS[level][0] or 0 for level in cfg["grid"]["coverage"])  # D_sg: one trace per problem
    grid = {k: v for k, v in cfg["grid"]["train"]["sft_sg"].items() if k != "min_examples"}
    # the grid's SFT, and one ten times as strong: "unseen facts stay put" means something only
    # where the same SFT raises the facts it trains on
    out["sft"] = [sft_probe(settings, model, tok, train, ood, errors, n, before) for n in (d_sg, 10 * d_sg)
                  for settings in (grid, {**grid, "learning_rate": 10 * grid["learning_rate"]})]
    (world_probe.OUT / f"{tag}.capability.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2])
