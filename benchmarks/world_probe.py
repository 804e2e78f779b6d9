"""The arithmetic world's premises in one process: world -> base model -> its evaluation (normal
and epistemic words banned, 200 problems x 2 samples per split) -> Section 3's table, with the
default config's settings unless overridden. This is how the world was tuned (benchmarks/
world_tuning.md); the pipeline computes the same quantities (base_model.json, richness.csv).
Usage: python benchmarks/world_probe.py '{"seed": 1, "base_model": {"train": {"epochs": 4}}}' TAG
(THREADS=1 runs two probes side by side on two cores; MODEL=dir reuses a trained model and
recomputes Section 3 only). Writes benchmarks/probes/TAG.json and the model to probes/TAG/."""
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
torch.set_num_threads(int(os.environ.get("THREADS", "1")))
from selfdistill.arith import ArithConfig, make_splits
from selfdistill.arith_corpus import correct_expert_trace, pretrain_examples
from selfdistill.templates import student_prompt
from selfdistill.tokenizer import build_tokenizer
from selfdistill.model import init_model
from selfdistill.sft import run_sft
from selfdistill.checkpoints import save_model
from selfdistill.generation import SamplingParams, load_generator
from selfdistill.sampling import sample_and_grade
from selfdistill.metrics import summarize, EPISTEMIC_WORDS
from selfdistill.section3 import select_problems, contexts, first_correct
from selfdistill.worlds import grader
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "probes"


def deep(d, u):
    for k, v in u.items():
        d[k] = deep(d.get(k, {}), v) if isinstance(v, dict) else v
    return d

over = json.loads(sys.argv[1]); tag = sys.argv[2]
cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
cfg = deep(cfg, over)
seed = over.get("seed", 0)
cfg["arith"]["seed"] = seed; cfg["base_model"]["train"]["seed"] = seed
out = {"tag": tag, "over": over}
t0 = time.time()
a = cfg["arith"]; ac = ArithConfig.from_dict(a); splits = make_splits(ac)
rng = random.Random(ac.seed + 1)
items = {name: [{"problem_id": p.problem_id, "prompt": student_prompt(p.text), "answer": str(p.answer),
                 "reference": correct_expert_trace(p, rng, ac.style)} for p in splits[name]] for name in ("train", "in_domain", "ood")}
corpus = pretrain_examples(splits["pretrain"], rng, ac.style, a["guided_full"], a["guided_nothink"], a["guided_unchecked"])
mdir = os.environ.get("MODEL") or str(OUT / tag)
if not os.environ.get("MODEL"):
    torch.manual_seed(seed); random.seed(seed)
    tok = build_tokenizer([e["prompt"] + e["completion"] for e in corpus])
    bm = cfg["base_model"]
    model = init_model(tok, seed=seed, **bm["arch"])
    with tempfile.TemporaryDirectory() as scratch:
        tr = run_sft(model, tok, corpus, scratch, **bm["train"])
    out["final_loss"] = [h["loss"] for h in tr.state.log_history if "loss" in h][-3:]
    out["pretrain_s"] = round(time.time() - t0)
    save_model(model, tok, mdir)
gen = load_generator(mdir, "hf", batch_size=200)
g = grader("arith")
ev = {}
for split in (() if os.environ.get("MODEL") else ("in_domain", "ood")):
    for ban in (False, True):
        sp = SamplingParams(n=2, temperature=0.6, top_p=0.95, max_new_tokens=250, seed=0, banned_words=EPISTEMIC_WORDS if ban else ())
        m = summarize(sample_and_grade(gen, items[split], sp, g))
        ev[f"{split}{'_banned' if ban else ''}"] = {k: round(m[k], 3) for k in ("accuracy", "mean_length", "mean_epistemic")}
out["eval"] = ev
s3 = cfg["section3"]
gen = load_generator(mdir, "hf", batch_size=256)
cands = random.Random(0).sample(items["train"], s3["candidates"])
rows = sample_and_grade(gen, cands, SamplingParams(n=8, seed=0, **s3["sampling"]), g)
sel = select_problems(cands, rows, 0.125, 0.5, len(cands))[:s3["max_problems"]]
out["selected"] = len(sel)
by = contexts(sel, regen={p["problem_id"]: "" for p in sel})
rr = sample_and_grade(gen, by["s"], SamplingParams(n=4, seed=0, **s3["sampling"]), g)
by = contexts(sel, regen=first_correct(rr))
tab = {}
for level, its in by.items():
    m = summarize(sample_and_grade(gen, its, SamplingParams(n=8, seed=0, **s3["sampling"]), g))
    tab[level] = {k: round(m[k], 3) for k in ("accuracy", "mean_length", "mean_epistemic")}
out["section3"] = tab
out["total_s"] = round(time.time() - t0)
print(json.dumps(out))
OUT.mkdir(parents=True, exist_ok=True)
(OUT / f"{tag}.json").write_text(json.dumps(out, indent=1))
