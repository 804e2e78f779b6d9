"""Pretraining steps of the built-in model under each attention kernel, on a CPU.

    python benchmarks/pretrain_attention.py results/base0/world/pretrain_corpus.jsonl [--rows 1200] [--threads 2]

Runs the base model's pretraining (`init_model`, then `run_sft` with the default config's
settings, one epoch) over the first `rows` corpus rows with SDPA and with plain matmul ("eager")
attention, alternating, and prints wall and CPU seconds and the mean training loss of each."""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from selfdistill.bases import base_config  # noqa: E402
from selfdistill.io import read_jsonl  # noqa: E402
from selfdistill.models.model import init_model  # noqa: E402
from selfdistill.models.tokenizer import build_tokenizer  # noqa: E402
from selfdistill.training.sft import run_sft  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--rows", type=int, default=1200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    base = base_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), 0)["base_model"]
    corpus = read_jsonl(args.corpus)[:args.rows]
    tokenizer = build_tokenizer([e["prompt"] + e["completion"] for e in corpus])
    for _ in range(args.rounds):
        for attention in ("sdpa", "eager"):
            model = init_model(tokenizer, seed=0, **base["arch"])
            model.set_attn_implementation(attention)
            wall, cpu = time.perf_counter(), time.process_time()
            with tempfile.TemporaryDirectory() as scratch:
                trainer = run_sft(model, tokenizer, corpus, scratch, **{**base["train"], "epochs": 1})
            print(f"{attention:5s} {args.threads} threads: {time.perf_counter() - wall:.1f} s wall, "
                  f"{time.process_time() - cpu:.1f} s CPU, mean loss {trainer.state.log_history[-1]['train_loss']:.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
