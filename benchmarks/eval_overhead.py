"""What resumable sampling costs: one grid cell's evaluation job (the default config's
grid.evaluation settings: 80 problems per split, two samples each, batch 200, 250 new tokens) run
by this checkout's sample stage and by a reference checkout's on the same model and prompts, the
two of a pair at the same time, one thread each on a machine with at least two cores, so that
whatever else slows the machine slows both alike (run one after the other, the same job's time
varied by 25% on an idle 2-core machine); each pair's wall and CPU time and their ratio.

The model has the default architecture and the default world's tokenizer, with random weights:
its completions run to the token budget, so a job decodes more than a trained model's would, and
the per-token cost of sampling weighs more than it does in the default run.

    snakemake --cores 1 results/base0/world/in_domain.jsonl results/base0/world/ood.jsonl
    git worktree add /tmp/reference <commit before the change>
    python benchmarks/eval_overhead.py --reference /tmp/reference --pairs 10 > benchmarks/eval_overhead.txt
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from selfdistill.bases import base_config  # noqa: E402
from selfdistill.io import read_jsonl  # noqa: E402
from selfdistill.models.model import init_model  # noqa: E402
from selfdistill.models.tokenizer import build_tokenizer  # noqa: E402


def make_model(folder: Path) -> Path:
    config = base_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), 0)
    corpus = read_jsonl(ROOT / "results/base0/world/pretrain_corpus.jsonl")
    tokenizer = build_tokenizer([e["prompt"] + e["completion"] for e in corpus])
    model = init_model(tokenizer, seed=0, **config["base_model"]["arch"])
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def job(code: Path, model: Path, out: Path) -> subprocess.Popen:
    """The sample stage of checkout `code` on two checkpoints x two splits, started."""
    config = base_config(yaml.safe_load((ROOT / "config/config.yaml").read_text()), 0)
    params = {"world": "arith", "backend": "hf", "shard_batches": 1, **config["grid"]["evaluation"]}
    ins = [f"model@{c}={model}" for c in ("step5", "final")] + \
        [f"prompts_{s}={ROOT}/results/base0/world/{s}.jsonl" for s in ("in_domain", "ood")]
    outs = [f"{kind}_{s}@{c}={out}/{c}/{s}.{ext}" for c in ("step5", "final") for s in ("in_domain", "ood")
            for kind, ext in (("samples", "samples.jsonl"), ("metrics", "json"))]
    env = {**os.environ, "PYTHONPATH": str(code / "workflow"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "selfdistill.stages.sample", "--params", json.dumps(params),
                             "--in", *ins, "--out", *outs], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def pair(first: tuple[Path, Path], second: tuple[Path, Path], model: Path) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of two jobs, each (checkout, output folder), run side by side."""
    start, jobs, times = time.perf_counter(), [job(code, model, out) for code, out in (first, second)], {}
    while len(times) < 2:
        pid, status, usage = os.wait4(-1, 0)
        i = next(k for k, j in enumerate(jobs) if j.pid == pid)
        if status:
            raise SystemExit(f"job {i} failed: {jobs[i].stderr.read().decode()[-3000:]}")
        times[i] = (time.perf_counter() - start, usage.ru_utime + usage.ru_stime)
    return [times[0], times[1]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", type=Path, required=True, help="checkout of the code to compare against")
    ap.add_argument("--pairs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = make_model(Path(tmp) / "model")
        pair((ROOT, Path(tmp) / "warm"), (args.reference, Path(tmp) / "warm-ref"), model)  # file caches warm
        rows = []
        for i in range(args.pairs):
            sides = [(args.reference, Path(tmp) / f"ref{i}"), (ROOT, Path(tmp) / f"new{i}")]
            if i % 2:  # each side starts first in every other pair
                ref, new = pair(*sides, model)
            else:
                new, ref = pair(*sides[::-1], model)
            rows.append((ref, new))
            print(f"pair {i + 1}: reference {ref[0]:.1f} s wall {ref[1]:.1f} s cpu, "
                  f"this checkout {new[0]:.1f} s wall {new[1]:.1f} s cpu, ratio {new[0] / ref[0]:.3f} wall "
                  f"{new[1] / ref[1]:.3f} cpu", flush=True)
    for k, name in ((0, "wall"), (1, "cpu")):
        ratios = [new[k] / ref[k] for ref, new in rows]
        print(f"{name}: median ratio {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
              f"median reference {statistics.median(r[k] for r, _ in rows):.1f} s, "
              f"this checkout {statistics.median(n[k] for _, n in rows):.1f} s")


if __name__ == "__main__":
    main()
