"""Training over several processes: each takes its share of a batch, and every output and
provenance record is written once, by the first process."""
import json
import os
import subprocess
import sys

from types import SimpleNamespace

import pytest
import torch
from test_train_resume import GRPO, cell, run_stage  # noqa: F401 (cell is a fixture)

from selfdistill.io import write_jsonl
from selfdistill.training.onpolicy import training_args
from selfdistill.training.parallel import SDPOOverProcesses, batch_layout, per_device_batch_size


def test_batch_sizes_are_split_over_the_processes(monkeypatch):
    assert per_device_batch_size(64) == 64
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert per_device_batch_size(64) == 16
    with pytest.raises(ValueError, match="batch_size=6 does not split evenly over 4 training processes"):
        per_device_batch_size(6)


def test_micro_batches_accumulate_to_the_same_batch(monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert batch_layout(64) == {"per_device_train_batch_size": 16, "gradient_accumulation_steps": 1}
    assert batch_layout(64, 4) == {"per_device_train_batch_size": 4, "gradient_accumulation_steps": 4}
    with pytest.raises(ValueError, match=r"micro_batch_size=3 does not divide .* \(16 in each of 4 processes\)"):
        batch_layout(64, 3)
    monkeypatch.setenv("WORLD_SIZE", "1")
    args = training_args("grpo", {**GRPO, "batch_size": 8, "micro_batch_size": 2}, str(tmp_path), 0, use_cpu=True)
    # one generation of batch_size completions per optimizer step, trained on in four passes
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.generation_batch_size) == (2, 4, 8)


@pytest.mark.parametrize("rank,recorded", [("0", True), ("1", False)])
def test_only_the_first_process_writes_provenance(tmp_path, rank, recorded):
    write_jsonl(tmp_path / "pool.jsonl", [{"problem_id": f"p{i}", "prompt": "q", "answer": "1"} for i in range(16)])
    run = subprocess.run(
        [sys.executable, "-m", "selfdistill.stages.coverage", "--params",
         json.dumps({"label": "8x8", "seed": 0, "seen_max": 8}), "--in", "pool=pool.jsonl",
         "--out", "rows=rows.jsonl", "seen=seen.jsonl"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "RANK": rank, "WORLD_SIZE": "2"})
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "rows.jsonl.prov.json").exists() is recorded


def test_two_training_processes_share_the_batch_and_write_each_output_once(cell):  # noqa: F811
    # torchrun starts the processes as `accelerate launch` does (tests/test_multiprocess_train.py
    # runs that through the rule)
    tmp_path, params = cell
    run = run_stage(tmp_path, tmp_path, params, launcher=(sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("finished at global step 4") == 2
    args = torch.load(tmp_path / "cell/model/training_args.bin", weights_only=False)
    assert (args.world_size, args.per_device_train_batch_size) == (2, 2)  # grid batch_size 4 in all
    manifest = json.loads((tmp_path / "cell/manifest.json").read_text())
    assert manifest["final_step"] == 4 and list(manifest["steps"]) == ["step2"]
    for output in ("model", "manifest.json", "checkpoints", "checkpoints/step2"):
        assert (tmp_path / "cell" / f"{output}.prov.json").exists(), output
    assert not (tmp_path / "scratch").exists()


class TRLs:
    """Stands for SDPOTrainer's loss, which returns early, and gathers nothing, without a teacher token."""

    def _compute_self_distillation_loss(self, model, inputs, distillation_logits):
        return "TRL's"


class Trainer(SDPOOverProcesses, TRLs):
    def __init__(self, processes: int):
        self.gathered, self.logged = [], []
        self.accelerator = SimpleNamespace(num_processes=processes,
                                           gather=lambda t: self.gathered.append(t) or t.expand(processes))

    def _log_self_distillation_metric(self, mode, value):
        self.logged.append((mode, value))


def test_an_sdpo_process_without_demonstrations_joins_the_others_gather():
    student = torch.randn(2, 3, 5, requires_grad=True)
    empty = SimpleNamespace(loss_mask=torch.zeros(2, 3), student_logits=student)
    trainer = Trainer(processes=2)
    loss = trainer._compute_self_distillation_loss(SimpleNamespace(training=True), {}, empty)
    assert len(trainer.gathered) == 1 and trainer.logged == [("train", 0.0)]
    loss.backward()  # on the student's graph: the gradient all-reduce still runs, adding zeros
    assert loss.item() == 0 and torch.count_nonzero(student.grad) == 0
    some = SimpleNamespace(loss_mask=torch.ones(2, 3), student_logits=student)
    assert trainer._compute_self_distillation_loss(SimpleNamespace(training=True), {}, some) == "TRL's"
    assert Trainer(processes=1)._compute_self_distillation_loss(SimpleNamespace(training=True), {}, empty) == "TRL's"
