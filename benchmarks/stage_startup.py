"""Seconds from process start to a stage's first useful work: a fresh interpreter that imports
`selfdistill.stages.<name>` (all a job does before its body runs) and reports the moment it is
ready. Median of `--runs` of that wall time, of the whole process's CPU time (user + system,
which other processes on a busy machine hardly change) and of the seconds the interpreter then
takes to exit (which every job pays too), and the heavy packages the import pulled in. With
`--before DIR` (a `workflow/` folder of another commit, e.g. `git archive <rev> workflow | tar -x
-C DIR`) each run of the two trees alternates, so a busy machine slows both alike.

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


def start_once(workflow: Path, stage: str) -> tuple[float, float, float, list[str]]:
    """(seconds to ready, CPU seconds of the process, seconds from ready to exit, heavy imports)."""
    # the body is empty, but it runs inside stage_run as a job's does, so the exit is a job's exit
    code = (f"import json, sys, time; import selfdistill.stages.{stage}; ready = time.time()\n"
            "from selfdistill.stages.cli import stage_run\n"
            "with stage_run('start-up probe', []): pass\n"
            f"print(json.dumps([ready, [m for m in {HEAVY!r} if m in sys.modules]]))")
    started, cpu = time.time(), cpu_of_children()
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(workflow)})
    ended = time.time()
    ready, heavy = json.loads(run.stdout.splitlines()[-1])
    return ready - started, cpu_of_children() - cpu, ended - ready, heavy


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a workflow/ folder to compare against")
    args = ap.parse_args()
    trees = {"after": Path(__file__).resolve().parents[1] / "workflow"}
    if args.before:
        trees = {"before": args.before, **trees}
    columns = [f"{t} {kind}" for kind in ("ready s", "cpu s", "exit s") for t in trees]
    print(f"{'stage':20s} " + " ".join(f"{c:>13s}" for c in columns) + "  heavy imports (" + ", ".join(trees) + ")")
    for stage in STAGES:
        runs, heavy = {t: [] for t in trees}, {}
        for _ in range(args.runs):
            for tree, path in trees.items():
                *seconds, heavy[tree] = start_once(path, stage)
                runs[tree].append(seconds)
        # (ready, cpu, exit) per run -> their medians, in the columns' order
        medians = {t: [statistics.median(column) for column in zip(*runs[t])] for t in trees}
        medians = " ".join(f"{medians[t][kind]:13.2f}" for kind in range(3) for t in trees)
        print(f"{stage:20s} {medians}  " + " | ".join(",".join(heavy[t]) or "-" for t in trees), flush=True)


if __name__ == "__main__":
    main()
