"""Seconds from process start to a stage's first useful work: a fresh interpreter that imports
`selfdistill.stages.<name>` (all a job does before its body runs), timed from outside, median of
`--runs`, as wall time and as CPU time (user + system, which other processes on a busy machine
hardly change), and which heavy packages that pulled in. With `--before DIR` (a `workflow/` folder of
another commit, e.g. `git archive <rev> workflow | tar -x -C DIR`) each run of the two trees
alternates, so a busy machine slows both alike.

Usage: python benchmarks/stage_startup.py [--runs 5] [--before DIR/workflow]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

STAGES = ("world", "coverage", "offpolicy_contexts", "base_summary", "richness_table", "grid_summary",
          "sample", "select_problems", "contexts", "teacher_probe", "train_sft", "train_onpolicy", "base_model")
HEAVY = ("torch", "transformers", "trl", "datasets", "accelerate", "pandas", "matplotlib", "seaborn")


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def start_once(workflow: Path, stage: str) -> tuple[float, float, list[str]]:
    code = (f"import json, sys; import selfdistill.stages.{stage}; "
            f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    started, cpu = time.perf_counter(), cpu_of_children()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(workflow)})
    return time.perf_counter() - started, cpu_of_children() - cpu, json.loads(run.stdout.splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a workflow/ folder to compare against")
    args = ap.parse_args()
    trees = {"after": Path(__file__).resolve().parents[1] / "workflow"}
    if args.before:
        trees = {"before": args.before, **trees}
    columns = [f"{t} {kind}" for kind in ("wall s", "cpu s") for t in trees]
    print(f"{'stage':20s} " + " ".join(f"{c:>13s}" for c in columns) + "  heavy imports (" + ", ".join(trees) + ")")
    for stage in STAGES:
        wall, cpu, heavy = {t: [] for t in trees}, {t: [] for t in trees}, {}
        for _ in range(args.runs):
            for tree, path in trees.items():
                w, c, heavy[tree] = start_once(path, stage)
                wall[tree].append(w)
                cpu[tree].append(c)
        medians = " ".join(f"{statistics.median(m[t]):13.2f}" for m in (wall, cpu) for t in trees)
        print(f"{stage:20s} {medians}  " + " | ".join(",".join(heavy[t]) or "-" for t in trees), flush=True)


if __name__ == "__main__":
    main()
