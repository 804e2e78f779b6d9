"""The arithmetic world's premises in one process, as the world was tuned (world_tuning.md):
world -> base model -> its evaluation (200 problems x 2 samples per split, normal and with the ten
epistemic words banned) -> Section 3's table, with the default config's settings unless
overridden. The pipeline computes the same quantities (base_model.json, richness.csv); this probe
skips its files and jobs so that two settings can be compared side by side in minutes.

    python benchmarks/world_probe.py '{"seed": 1, "base_model": {"train": {"epochs": 4}}}' TAG

`seed` sets the world's and the base model's seed together. THREADS=1 (the default) lets two
probes share two cores; MODEL=dir reuses a trained model and recomputes Section 3 only. Writes
benchmarks/probes/TAG.json, and the model to benchmarks/probes/TAG/.
"""
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

from selfdistill.bases import base_config
from selfdistill.data.arith_splits import corpus_rows, settings, split_rows
from selfdistill.data.section3 import contexts, first_correct, select_problems
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import sample_and_grade
from selfdistill.evaluation.metrics import EPISTEMIC_WORDS, summarize
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.training.checkpoints import save_model
from selfdistill.training.sft import run_sft

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "probes"
KEYS = ("accuracy", "mean_length", "mean_epistemic")


def merged(base: dict, override: dict) -> dict:
    for key, value in override.items():
        base[key] = merged(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


def world(cfg: dict) -> tuple[dict, list[dict]]:
    """The splits as rows and the pretraining corpus, as the world and corpus stages write them."""
    a = cfg["arith"]
    rows = {name: split_rows(settings(a, name)) for name in ("train", "in_domain", "ood")}
    return rows, corpus_rows(settings(a, "pretrain"))


def pretrain(cfg: dict, corpus: list[dict], model_dir: str) -> list[float]:
    seed = cfg["base_model"]["train"]["seed"]
    torch.manual_seed(seed)
    tokenizer = build_tokenizer([e["prompt"] + e["completion"] for e in corpus])
    model = init_model(tokenizer, seed=seed, **cfg["base_model"]["arch"])
    with tempfile.TemporaryDirectory() as scratch:
        trainer = run_sft(model, tokenizer, corpus, scratch, **cfg["base_model"]["train"])
    save_model(model, tokenizer, model_dir)
    return [h["loss"] for h in trainer.state.log_history if "loss" in h][-3:]


def score(gen, items: list[dict], params: SamplingParams) -> dict:
    m = summarize(sample_and_grade(gen, items, params, grader("arith")))
    return {k: round(m[k], 3) for k in KEYS}


def evaluate(model_dir: str, rows: dict, max_new_tokens: int) -> dict:
    gen, out = load_generator(model_dir, "hf", batch_size=200), {}
    for split in ("in_domain", "ood"):
        for banned in (False, True):
            params = SamplingParams(n=2, temperature=0.6, top_p=0.95, max_new_tokens=max_new_tokens, seed=0,
                                    banned_words=EPISTEMIC_WORDS if banned else ())
            out[split + ("_banned" if banned else "")] = score(gen, rows[split], params)
    return out


def section3(cfg: dict, model_dir: str, pool: list[dict]) -> tuple[int, dict]:
    s3 = cfg["section3"]
    gen = load_generator(model_dir, "hf", batch_size=s3["batch_size"])
    candidates = random.Random(s3["seed"]).sample(pool, s3["candidates"])
    sampling = SamplingParams(n=s3["samples"], seed=s3["seed"], **s3["sampling"])
    rows = sample_and_grade(gen, candidates, sampling, grader("arith"))
    low, high = s3["pass_rate"]
    chosen = select_problems(candidates, rows, low, high, len(candidates))[:s3["max_problems"]]
    regen_tries = SamplingParams(n=s3["regen_tries"], seed=s3["seed"], **s3["sampling"])
    regen = sample_and_grade(gen, contexts(chosen, {p["problem_id"]: "" for p in chosen})["s"], regen_tries,
                             grader("arith"))
    traces = SamplingParams(n=s3["traces_per_problem"], seed=s3["seed"], **s3["sampling"])
    table = {level: score(gen, items, traces) for level, items in contexts(chosen, first_correct(regen)).items()}
    return len(chosen), table


def main(override: dict, tag: str) -> None:
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    # the override's seed is a base model's entry in `bases`: it seeds the world, pretraining and Section 3
    cfg = base_config(merged(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), override),
                      override.get("seed", 0))
    started, out = time.time(), {"tag": tag, "override": override}
    rows, corpus = world(cfg)
    model_dir = os.environ.get("MODEL") or str(OUT / tag)
    if not os.environ.get("MODEL"):
        out["final_loss"] = pretrain(cfg, corpus, model_dir)
        out["pretrain_s"] = round(time.time() - started)
        out["eval"] = evaluate(model_dir, rows, cfg["evaluation"]["sampling"]["max_new_tokens"])
    out["selected"], out["section3"] = section3(cfg, model_dir, rows["train"])
    out["total_s"] = round(time.time() - started)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{tag}.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2])
