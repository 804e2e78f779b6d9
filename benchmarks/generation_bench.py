"""Completion tokens per second of HFGenerator against plain `model.generate` (one default call
per batch), on the same model, prompts, batches and sampling settings, in one process: the two
alternate `--rounds` times, so a busy machine slows both alike, and the ratio is taken round by
round. Defaults are the grid's checkpoint evaluation (config/config.yaml `grid.evaluation`, both
splits) on the built-in base model, one thread as the workflow's sampling jobs run.

Usage: python benchmarks/generation_bench.py [--model results/base0/base_model] [--section evaluation]
       [--rounds 3] [--threads 1] [--out benchmarks/generation_bench.txt]
Accuracy and mean length are printed for both: the fast path must not change what is sampled.
Rates are given per wall second and per CPU second of this process: on a machine shared with
other work the wall ratio swings from round to round, the CPU-time ratio much less.
"""
import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import torch  # noqa: E402
import yaml  # noqa: E402

from selfdistill.data.worlds import grader  # noqa: E402
from selfdistill.decoding.generation import HFGenerator, SamplingParams  # noqa: E402
from selfdistill.decoding.sampling import sample_and_grade  # noqa: E402
from selfdistill.bases import base_config  # noqa: E402
from selfdistill.io import read_jsonl  # noqa: E402


def workload(section: str, splits: list[str], results: Path) -> tuple[list[dict], dict]:
    config = base_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), 0)
    settings = config
    for key in section.split("."):
        settings = settings[key]
    items = [it for split in splits for it in read_jsonl(results / "world" / f"{split}.jsonl")[:settings.get("max_problems")]]
    return items, {**settings, "world": config["world"]}


def timed(gen: HFGenerator, items: list[dict], params: SamplingParams, world: str) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    rows = sample_and_grade(gen, items, params, grader(world))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    tokens = sum(r["num_tokens"] for r in rows)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "tokens": tokens, "tokens_per_s": tokens / seconds,
            "tokens_per_cpu_s": tokens / cpu_seconds, "completions": len(rows),
            "accuracy": statistics.mean(r["correct"] for r in rows),
            "mean_length": tokens / len(rows), "finished": statistics.mean(r["finished"] for r in rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "results/base0/base_model"))
    ap.add_argument("--results", type=Path, default=ROOT / "results/base0", help="the run whose world/ holds the prompts")
    ap.add_argument("--section", default="grid.evaluation", help="config section with batch_size and sampling")
    ap.add_argument("--splits", nargs="+", default=["in_domain", "ood"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, help="append the result lines to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    items, settings = workload(args.section, args.splits, args.results)
    params = SamplingParams.from_config(settings["sampling"])
    gens = {kind: HFGenerator(args.model, batch_size=settings["batch_size"], device="cpu", plain=kind == "plain")
            for kind in ("plain", "fast")}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    lines = [f"# {datetime.now(timezone.utc):%Y-%m-%dT%H:%MZ} {commit}, {args.threads} thread(s), {args.section}: "
             f"{len(items)} prompts x {params.n}, batch {settings['batch_size']}, {params}"]
    ratios = {"wall": [], "cpu": []}
    for round_ in range(args.rounds):
        result = {kind: timed(gen, items, params, settings["world"]) for kind, gen in gens.items()}
        ratios["wall"].append(result["fast"]["tokens_per_s"] / result["plain"]["tokens_per_s"])
        ratios["cpu"].append(result["fast"]["tokens_per_cpu_s"] / result["plain"]["tokens_per_cpu_s"])
        for kind, r in result.items():
            lines.append(f"round {round_} {kind:5s}: {r['tokens']} tokens in {r['seconds']:.1f} s wall, "
                         f"{r['cpu_seconds']:.1f} s CPU = {r['tokens_per_s']:.0f} tok/s, {r['tokens_per_cpu_s']:.0f} "
                         f"tok/CPU-s; accuracy {r['accuracy']:.3f}, mean length {r['mean_length']:.1f}, "
                         f"finished {r['finished']:.3f}")
        lines.append(f"round {round_} ratio fast/plain: {ratios['wall'][-1]:.2f} wall, {ratios['cpu'][-1]:.2f} CPU")
        print("\n".join(lines[-3:]), flush=True)
    lines.append(f"median ratio fast/plain over {args.rounds} rounds: {statistics.median(ratios['wall']):.2f} wall, "
                 f"{statistics.median(ratios['cpu']):.2f} CPU time")
    print(lines[-1])
    if args.out:
        with args.out.open("a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
