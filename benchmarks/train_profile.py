"""Where an on-policy training step spends its time on the built-in model, as train_onpolicy runs
it (selfdistill.training.onpolicy.trainer_for, the method's settings from config/config.yaml, one thread):
rollout generation inside the trainer, rewards, the student's forward, the teacher's forward,
backward, the optimizer, and the rest. Each variant below changes only how the step is computed,
never what the study trains on (same prompts, rollouts per step, lengths, losses, learning rate);
all variants run in one process, one after another, on the same model and prompts.

Usage: python benchmarks/train_profile.py [--model results/base0/base_model] [--methods sdpo_s grpo]
       [--steps 4] [--variants plain segmented] [--out benchmarks/train_profile.txt]
"""
import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

import torch  # noqa: E402
import yaml  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback  # noqa: E402

from selfdistill.bases import base_config  # noqa: E402
from selfdistill.data.coverage import coverage_set  # noqa: E402
from selfdistill.io import read_jsonl  # noqa: E402
from selfdistill.training.onpolicy import trainer_for  # noqa: E402

# variant -> (settings changed in the method's grid.train entry, transformers generate settings, whether
# the rollouts are decoded in segments as trainer_for sets them up, or by TRL's one generate call)
VARIANTS = {
    "plain": ({}, {}, False),
    # the rollouts' KV cache preallocated and written in place instead of copied at every step
    "static_cache": ({}, {"cache_implementation": "static"}, False),
    # the same 32 rollouts per optimizer step, forwarded and backpropagated in passes of 8
    "micro8": ({"micro_batch_size": 8}, {}, False),
    # as train_onpolicy runs: segments, finished rows dropped, static cache per segment (training/rollouts.py)
    "segmented": ({}, {}, True),
}
PARTS = ("generation", "rewards", "rollout_other", "student_forward", "teacher_forward", "loss_other",
         "backward", "optimizer", "other")


class Clock(TrainerCallback):
    """CPU seconds of this process per training step, and per part of it through wrapped trainer
    methods: on a shared machine CPU time moves far less than wall time with the other load."""

    def __init__(self):
        self.parts, self.steps = defaultdict(float), []
        self._step = self._optimizer = None

    def wrap(self, obj, name: str, part):
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            started = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.parts[part(*args, **kwargs) if callable(part) else part] += time.process_time() - started
        setattr(obj, name, timed)

    def on_step_begin(self, args, state, control, **kwargs):
        self._step = time.process_time()

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        self._optimizer = time.process_time()

    def on_optimizer_step(self, args, state, control, **kwargs):
        self.parts["optimizer"] += time.process_time() - self._optimizer

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(time.process_time() - self._step)


def instrument(trainer, clock: Clock) -> None:
    clock.wrap(trainer, "_prepare_inputs", "rollout_total")
    clock.wrap(trainer, "_generate", "generation")
    clock.wrap(trainer, "_calculate_rewards", "rewards")
    clock.wrap(trainer, "compute_loss", "loss_total")
    clock.wrap(trainer.accelerator, "backward", "backward")
    if hasattr(trainer, "teacher_model"):  # SDPO: one method forwards the student and the teacher
        clock.wrap(trainer, "_forward_logits",
                   lambda *a, **k: "teacher_forward" if k.get("model") is trainer.teacher_model else "student_forward")
    else:
        clock.wrap(trainer, "_get_per_token_logps_and_entropies", "student_forward")


def profile(method: str, variant: str, args, rows: list[dict], config: dict) -> dict:
    settings, generation, segmented = VARIANTS[variant]
    s = {**config["grid"]["train"][method], **settings, "max_steps": args.steps,
         "checkpoint_interval": args.steps + 1}
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = trainer_for(method, s, model, tokenizer, rows, config["world"], scratch, seed=0, use_cpu=True)
        for key, value in generation.items():
            setattr(trainer.generation_config, key, value)
        if not segmented:
            trainer.rollout_segment = None
        clock = Clock()
        trainer.add_callback(clock)
        instrument(trainer, clock)
        started = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - started
    p = dict(clock.parts)
    p["rollout_other"] = p.pop("rollout_total") - p["generation"] - p["rewards"]
    p["loss_other"] = p.pop("loss_total") - p["student_forward"] - p.get("teacher_forward", 0.0)
    p["other"] = sum(clock.steps) - sum(p.values())
    lengths = [h["completions/mean_length"] for h in trainer.state.log_history if "completions/mean_length" in h]
    return {"wall": wall, "steps": clock.steps, "parts": p, "mean_length": statistics.mean(lengths)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(ROOT / "results/base0/base_model"))
    ap.add_argument("--results", type=Path, default=ROOT / "results/base0", help="the run whose world/ holds the prompts")
    ap.add_argument("--methods", nargs="+", default=["sdpo_s", "grpo"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--coverage", default="128")
    ap.add_argument("--rows", type=Path, help="the coverage's training rows as a file (grid/coverage/<label>.jsonl)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, help="append the result lines to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    config = base_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), 0)
    rows = read_jsonl(args.rows) if args.rows else coverage_set(
        read_jsonl(args.results / "world/train.jsonl"), args.coverage, config["grid"]["coverage_seed"])
    lines = [f"# {args.steps} steps, coverage {args.coverage}, {args.threads} thread(s); CPU seconds over all "
             f"steps, share of step time in brackets"]
    print(lines[0], flush=True)
    for method in args.methods:
        for variant in args.variants:
            r = profile(method, variant, args, rows, config)
            step_total = sum(r["steps"])
            parts = ", ".join(f"{k} {r['parts'].get(k, 0.0):.1f} ({r['parts'].get(k, 0.0) / step_total:.0%})"
                              for k in PARTS if k in r["parts"])
            lines.append(f"{method} {variant}: {step_total:.1f} CPU s in steps ({step_total / args.steps:.2f} /step; "
                         f"train() {r['wall']:.1f} s wall), mean completion {r['mean_length']:.0f} tokens; {parts}")
            print(lines[-1], flush=True)
    if args.out:
        with args.out.open("a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
