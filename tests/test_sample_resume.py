"""A sampling job killed part way resumes from its finished shards: the rerun samples only the
shards it lacks and writes, byte for byte, what an uninterrupted job writes; shards made with
other settings are never reused. For an evaluation of several checkpoints, and for Section 3's
teacher traces (one model, one prompt file, more samples per problem)."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import torch
from test_train_resume import make_base
from transformers import AutoModelForCausalLM

from selfdistill.io import write_jsonl

SETTINGS = {"world": "arith", "backend": "hf", "batch_size": 4, "shard_batches": 1,
            "sampling": {"n": 2, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 8, "seed": 0}}
# 8 problems per prompt file, 4 completions per batch, n = 2: four shards of two problems each
SHARDS = 4
# the job as it would die: SIGKILL right after its `after`-th finished shard is saved
KILLED = """
import os, runpy, signal, sys
from selfdistill.decoding import shards
save, saved = shards.ShardStore.save, [0]
def save_then_die(self, index, rows):
    save(self, index, rows)
    saved[0] += 1
    if saved[0] == int(os.environ["DIE_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)
shards.ShardStore.save = save_then_die
runpy.run_module("selfdistill.stages.sample", run_name="__main__", alter_sys=True)
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Three checkpoints of a tiny model (the base and two perturbed copies) and two prompt files."""
    root = make_base(tmp_path_factory.mktemp("sample_resume"))
    for split, steps, added in (("a", "(1) Add 2.", 2), ("b", "(1) Add 2. (2) Add 2.", 4)):
        write_jsonl(root / f"{split}.jsonl", [{"problem_id": f"{split}{i}", "prompt": f"Start with {i}. {steps}",
                                               "answer": str(i + added)} for i in range(8)])
    for k in (1, 2):
        model = AutoModelForCausalLM.from_pretrained(root / "base")
        torch.manual_seed(k)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.5 * torch.randn_like(p))
        shutil.copytree(root / "base", root / f"step{k}")
        model.save_pretrained(root / f"step{k}")
    return root


JOBS = {
    # a grid cell's evaluation: three checkpoints, each on two splits
    "evaluation": ({f"model@{c}": c for c in ("step1", "step2", "base")} | {"prompts_a": "a.jsonl",
                                                                           "prompts_b": "b.jsonl"},
                   {f"{kind}_{split}@{c}": f"{c}/{split}.{ext}" for c in ("step1", "step2", "base")
                    for split in "ab" for kind, ext in (("samples", "samples.jsonl"), ("metrics", "json"))},
                   SETTINGS),
    # Section 3's teacher traces at one richness level
    "traces": ({"model": "base", "prompts": "b.jsonl"},
               {"samples": "traces/s.samples.jsonl", "metrics": "traces/s.json"},
               {**SETTINGS, "batch_size": 8, "sampling": {**SETTINGS["sampling"], "n": 4}}),
}


def run_job(inputs, workdir, job, settings=None, die_after=None):
    ins, outs, default = JOBS[job]
    args = ["--params", json.dumps(settings or default),
            "--in", *[f"{k}={inputs / v}" for k, v in ins.items()],
            "--out", *[f"{k}={workdir / v}" for k, v in outs.items()]]
    if die_after is None:
        command = [sys.executable, "-m", "selfdistill.stages.sample", *args]
    else:
        command = [sys.executable, "-c", KILLED, *args]
    env = {**os.environ, "DIE_AFTER": str(die_after), "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, env=env)


def outputs(workdir, job) -> dict:
    return {v: (workdir / v).read_bytes() for v in JOBS[job][1].values()}


def delete_outputs(workdir, job):
    """What Snakemake does to a failed job's outputs before it reruns the job."""
    for v in JOBS[job][1].values():
        (workdir / v).unlink(missing_ok=True)


def shard_counts(log: str) -> tuple[int, int]:
    return len(re.findall(r"shard \d+/\d+: sampled", log)), len(re.findall(r"shard \d+/\d+: reused", log))


@pytest.fixture(scope="module")
def uninterrupted(inputs, tmp_path_factory):
    done = {}
    for job in JOBS:
        workdir = tmp_path_factory.mktemp(f"uninterrupted_{job}")
        run = run_job(inputs, workdir, job)
        assert run.returncode == 0, run.stderr[-3000:]
        done[job] = outputs(workdir, job)
    return done


@pytest.mark.parametrize("job,die_after", [("evaluation", 2 * SHARDS + 3), ("traces", 3)])
def test_a_killed_job_resumes_to_the_uninterrupted_outputs(inputs, uninterrupted, tmp_path, job, die_after):
    killed = run_job(inputs, tmp_path, job, die_after=die_after)
    assert killed.returncode == -9, killed.stderr[-3000:]
    delete_outputs(tmp_path, job)
    resumed = run_job(inputs, tmp_path, job)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert outputs(tmp_path, job) == uninterrupted[job]
    # every repeat of every problem once, with its index: avg@k and pass@k see all k, none merged
    n = JOBS[job][2]["sampling"]["n"]
    for name in JOBS[job][1].values():
        if name.endswith(".samples.jsonl"):
            repeats = {}
            for line in (tmp_path / name).read_text().splitlines():
                row = json.loads(line)
                repeats.setdefault(row["problem_id"], []).append(row["sample"])
            assert len(repeats) == 8 and all(sorted(r) == list(range(n)) for r in repeats.values())
    # the finished shards were read back, not sampled again; the rest were sampled once
    total = SHARDS * len([k for k in JOBS[job][0] if k.startswith("prompts")]) * \
        len([k for k in JOBS[job][0] if k.startswith("model")])
    assert shard_counts(resumed.stderr) == (total - die_after, die_after)
    # a finished job keeps no shards
    assert not list(tmp_path.rglob("*.shards"))


def test_finished_checkpoints_load_no_model(inputs, tmp_path):
    # killed in the second checkpoint: the rerun reads the first one's shards without loading it
    assert run_job(inputs, tmp_path, "evaluation", die_after=2 * SHARDS + 1).returncode == -9
    delete_outputs(tmp_path, "evaluation")
    resumed = run_job(inputs, tmp_path, "evaluation")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert re.findall(r"loading the model (\S+)", resumed.stderr) == [str(inputs / "step2"), str(inputs / "base")]


def test_other_settings_sample_from_nothing(inputs, tmp_path):
    job = "evaluation"
    assert run_job(inputs, tmp_path, job, die_after=SHARDS + 2).returncode == -9
    [old] = list(tmp_path.glob("step1/b.samples.jsonl.shards/*"))
    delete_outputs(tmp_path, job)
    other = {**SETTINGS, "sampling": {**SETTINGS["sampling"], "seed": 1}}
    rerun = run_job(inputs, tmp_path, job, settings=other)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert shard_counts(rerun.stderr) == (SHARDS * 2 * 3, 0)
    assert "removing shards made with other settings" in rerun.stderr and not old.exists()
