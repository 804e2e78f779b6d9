"""A killed on-policy training job resumes from its scratch checkpoint when rerun, and ends with
the weights an uninterrupted run ends with."""
import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from selfdistill.io import write_jsonl
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.stages.train_onpolicy import prepare_scratch
from selfdistill.training.sft import run_sft

SDPO = {"learning_rate": 1e-3, "max_steps": 4, "warmup_steps": 0, "batch_size": 8, "num_generations": 4,
        "temperature": 1.0, "max_completion_length": 8, "checkpoint_interval": 2,
        "distillation_mode": "topk_logits", "distillation_topk": 5, "distillation_add_tail": True,
        "distillation_alpha": 0.5, "distillation_is_clip": 2.0, "teacher_model_kind": "ema",
        "teacher_update_rate": 0.0, "success_reward_threshold": 0.5, "dont_reprompt_on_self_success": True}
GRPO = {"learning_rate": 1e-4, "max_steps": 4, "warmup_steps": 0, "batch_size": 4, "num_generations": 2,
        "temperature": 1.0, "max_completion_length": 8, "checkpoint_interval": 2,
        "epsilon": 0.2, "epsilon_high": 0.28, "scale_rewards": "none", "beta": 0.0}
# the stage as a real job would die: SIGKILL, once a given trainer call has run
KILLED = """
import os, runpy, signal, sys
from transformers import Trainer
original = Trainer.{method}
def call_then_die(self, *args, **kwargs):
    {before}
    original(self, *args, **kwargs)
    {after}
Trainer.{method} = call_then_die
module = sys.argv.pop(2)  # after the -m that the launcher's caller adds
del sys.argv[1]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""
DIE = "os.kill(os.getpid(), signal.SIGKILL)"
# the final model is being saved: every trainer checkpoint is complete (its own saves are internal)
KILLED_SAVING_FINAL = KILLED.format(method="save_model", before=f"if not kwargs.get('_internal_call'): {DIE}",
                                    after="")
KILLED_AFTER_STEP_2 = KILLED.format(method="_save_checkpoint", before="",
                                    after=f"if self.state.global_step == 2: {DIE}")


def make_base(root, answers_some: bool = False):
    """`root`/base, a tiny model, and `root`/coverage.jsonl, its training problems. A model that
    `answers_some` of them right makes rewards vary and gives SDPO demonstrations, so every
    training step changes the weights."""
    rows = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(1 + i % 2)}
            for i in range(16)]
    # every answer's digits are tokens of their own (\boxed{1}, not only " 1" after a space)
    tokenizer = build_tokenizer([r["prompt"] + "\\boxed{1}\\boxed{2}\\boxed{12}" for r in rows])
    model = init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                       max_positions=128, seed=0)
    if answers_some:
        guesses = [{"prompt": r["prompt"], "completion": f"\\boxed{{{1 + i // 16 % 2}}}"}
                   for i, r in enumerate(rows * 4)]
        run_sft(model, tokenizer, guesses, str(root / "sft"), learning_rate=3e-2, epochs=30, batch_size=8,
                warmup_ratio=0.0, max_length=64, seed=0)
    model.save_pretrained(root / "base")
    tokenizer.save_pretrained(root / "base")
    write_jsonl(root / "coverage.jsonl", rows)
    return root


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return make_base(tmp_path_factory.mktemp("resume"), answers_some=True)


@pytest.fixture
def cell(tmp_path):
    """(folder, params) of a GRPO cell on an untrained model, inputs and outputs in the folder."""
    return make_base(tmp_path), params_in(tmp_path, "grpo", GRPO)


def params_in(workdir, method="sdpo_s", train=SDPO):
    return {"method": method, "seed": 0, "world": "arith", "train": train, "scratch": str(workdir / "scratch")}


def run_stage(base, workdir, params, launcher=(sys.executable,)):
    out = workdir / "cell"
    return subprocess.run(
        [*launcher, "-m", "selfdistill.stages.train_onpolicy", "--params", json.dumps(params),
         "--in", f"model={base / 'base'}", f"coverage={base / 'coverage.jsonl'}",
         "--out", f"model={out / 'model'}", f"checkpoints={out / 'checkpoints'}", f"manifest={out / 'manifest.json'}"],
        capture_output=True, text=True, cwd=workdir)


def weights(cell):
    return load_file(cell / "model/model.safetensors")


@pytest.fixture(scope="module")
def uninterrupted(base):
    workdir = base / "uninterrupted"
    workdir.mkdir()
    run = run_stage(base, workdir, params_in(workdir))
    assert run.returncode == 0, run.stderr[-3000:]
    return workdir / "cell"


@pytest.mark.parametrize("killer,resumed_at", [(KILLED_SAVING_FINAL, 4), (KILLED_AFTER_STEP_2, 2)],
                         ids=["while-saving-final-model", "after-step-2"])
def test_a_killed_job_resumes_to_the_uninterrupted_result(base, uninterrupted, tmp_path, killer, resumed_at):
    killed = run_stage(base, tmp_path, params_in(tmp_path), launcher=(sys.executable, "-c", killer))
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert not (tmp_path / "cell/manifest.json").exists()

    run = run_stage(base, tmp_path, params_in(tmp_path))
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"resumed from {tmp_path / 'scratch'}/checkpoint-{resumed_at}" in run.stderr
    assert "finished at global step 4" in run.stderr
    manifest = json.loads((tmp_path / "cell/manifest.json").read_text())
    assert manifest["resumed_from"].endswith(f"checkpoint-{resumed_at}")
    assert manifest["final_step"] == SDPO["max_steps"]
    assert [h["step"] for h in manifest["log_history"] if "loss" in h] == [1, 2, 3, 4]

    expected, got, start = weights(uninterrupted), weights(tmp_path / "cell"), load_file(base / "base/model.safetensors")
    assert any(not torch.equal(expected[k], start[k]) for k in expected)  # training moved the weights
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    step2 = load_file(tmp_path / "cell/checkpoints/step2/model.safetensors")
    assert all(torch.equal(t, load_file(uninterrupted / "checkpoints/step2/model.safetensors")[k]) for k, t in step2.items())
    assert not (tmp_path / "cell/checkpoints/step2/optimizer.pt").exists()
    assert not (tmp_path / "scratch").exists()  # cleaned once the outputs are written


def test_scratch_from_other_settings_is_not_resumed(tmp_path):
    params = params_in(tmp_path)
    prepare_scratch(tmp_path / "scratch", params)
    (tmp_path / "scratch/checkpoint-2").mkdir()
    (tmp_path / "scratch/checkpoint-2/trainer_state.json").write_text("{}")
    assert prepare_scratch(tmp_path / "scratch", params).name == "checkpoint-2"
    changed = {**params, "train": {**SDPO, "learning_rate": 1e-3 / 2}}
    assert prepare_scratch(tmp_path / "scratch", changed) is None
    assert not (tmp_path / "scratch/checkpoint-2").exists()
