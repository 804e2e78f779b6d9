"""A killed on-policy training job resumes from its scratch checkpoint when rerun."""
import json
import subprocess
import sys

import pytest

from selfdistill.io import write_jsonl
from selfdistill.model import init_model
from selfdistill.onpolicy import trainer_for
from selfdistill.stages.train_onpolicy import prepare_scratch
from selfdistill.tokenizer import build_tokenizer

TRAIN = {"learning_rate": 1e-4, "max_steps": 4, "warmup_steps": 0, "batch_size": 4, "num_generations": 2,
         "temperature": 1.0, "max_completion_length": 8, "checkpoint_interval": 2,
         "epsilon": 0.2, "epsilon_high": 0.28, "scale_rewards": "none", "beta": 0.0}


@pytest.fixture
def cell(tmp_path):
    rows = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(i + 2)} for i in range(4)]
    tokenizer = build_tokenizer([r["prompt"] + " \\boxed{12}" for r in rows])
    model = init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                       max_positions=128, seed=0)
    model.save_pretrained(tmp_path / "base")
    tokenizer.save_pretrained(tmp_path / "base")
    write_jsonl(tmp_path / "coverage.jsonl", rows)
    params = {"method": "grpo", "seed": 0, "world": "arith", "train": TRAIN, "scratch": str(tmp_path / "scratch")}
    return tmp_path, model, tokenizer, rows, params


def run_stage(tmp_path, params, launcher=(sys.executable,)):
    out = tmp_path / "cell"
    return subprocess.run(
        [*launcher, "-m", "selfdistill.stages.train_onpolicy", "--params", json.dumps(params),
         "--in", f"model={tmp_path / 'base'}", f"coverage={tmp_path / 'coverage.jsonl'}",
         "--out", f"model={out / 'model'}", f"checkpoints={out / 'checkpoints'}", f"manifest={out / 'manifest.json'}"],
        capture_output=True, text=True, cwd=tmp_path)


def test_a_killed_job_resumes_from_its_last_checkpoint(cell):
    tmp_path, model, tokenizer, rows, params = cell
    # the killed job: same settings, but it got only as far as its first checkpoint (step 2)
    assert prepare_scratch(tmp_path / "scratch", params) is None
    partial = trainer_for("grpo", {**TRAIN, "max_steps": 2}, model, tokenizer, rows, "arith",
                          params["scratch"], 0, use_cpu=True)
    partial.train()
    assert (tmp_path / "scratch/checkpoint-2/trainer_state.json").exists()

    run = run_stage(tmp_path, params)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "resumed from" in run.stderr and "checkpoint-2" in run.stderr
    manifest = json.loads((tmp_path / "cell/manifest.json").read_text())
    assert manifest["resumed_from"].endswith("checkpoint-2")
    assert manifest["final_step"] == 4
    # steps 1-2 come from the killed job's state, 3-4 from the resumed one
    assert [h["step"] for h in manifest["log_history"] if "loss" in h] == [1, 2, 3, 4]
    assert (tmp_path / "cell/model/model.safetensors").exists()
    assert (tmp_path / "cell/checkpoints/step2/model.safetensors").exists()
    assert not (tmp_path / "cell/checkpoints/step2/optimizer.pt").exists()
    assert not (tmp_path / "scratch").exists()  # cleaned once the outputs are written


def test_scratch_from_other_settings_is_not_resumed(cell):
    tmp_path, model, tokenizer, rows, params = cell
    prepare_scratch(tmp_path / "scratch", params)
    (tmp_path / "scratch/checkpoint-2").mkdir()
    (tmp_path / "scratch/checkpoint-2/trainer_state.json").write_text("{}")
    assert prepare_scratch(tmp_path / "scratch", params).name == "checkpoint-2"
    changed = {**params, "train": {**TRAIN, "learning_rate": 1e-3}}
    assert prepare_scratch(tmp_path / "scratch", changed) is None
    assert not (tmp_path / "scratch/checkpoint-2").exists()
