"""Training over two processes on a CPU, through the rules: with compute.train.processes: 2 a grid
cell's job starts under accelerate launch, writes each output and record once, and an SFT cell
ends with the weights its one-process run ends with, up to float rounding."""
import json
import re
import shutil
import subprocess
import sys

import pytest
import torch
import yaml
from conftest import TEST_CONFIG, scheduled, snakemake
from safetensors.torch import load_file

from selfdistill.io import read_jsonl
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.training.sft import run_sft

SFT, SDPO = "results/base0/grid/sft_sg/8x8/seed0", "results/base0/grid/sdpo_s/8x8/seed0"
RULES = ("train_sft", "train_onpolicy")
# The two runs differ only in the order float32 gradients are summed (gloo's all-reduce adds the
# processes' halves of a batch; one process sums the batch at once), and Adam, dividing each
# gradient by its own size, passes that rounding on to the update of near-zero gradients. Measured
# on this cell: 1e-6, 0.5% of the largest change training made; allowed: 5% of it.
TOLERANCE = 0.05
# what provenance says about how an output was made: the same whatever the process count
RECORDED = ("stage", "rule", "cell", "params", "seed", "inputs")


def guessing_model(problems: list[dict], dest):
    """A base model that answers the world's training problems with a bare boxed number, some of
    them right. The test config's own base model is too little pretrained to answer any, so its
    SFT data sets are empty and no cell of its grid changes a weight."""
    tokenizer = build_tokenizer([p["prompt"] + p["reference"] for p in problems])
    model = init_model(tokenizer, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64,
                       max_positions=256, seed=0)
    pairs = [{"prompt": p["prompt"], "completion": f"The answer is \\boxed{{{p['answer']}}}."} for p in problems]
    run_sft(model, tokenizer, pairs, str(dest / "scratch"), learning_rate=0.01, epochs=10, batch_size=16,
            warmup_ratio=0.0, max_length=256, seed=0)
    model.save_pretrained(dest / "model")
    tokenizer.save_pretrained(dest / "model")
    return dest / "model"


def run(workdir, *args):
    done = snakemake(workdir, *args)
    logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/base0/grid/train_*.log")))
    assert done.returncode == 0, done.stderr[-3000:] + logs
    return done


@pytest.fixture(scope="module")
def cells(tmp_path_factory, one_thread):
    """The workdir after the two cells' one-process run (kept under one/) and their two-process rerun."""
    workdir = tmp_path_factory.mktemp("multiprocess")
    run(workdir, "results/base0/world/train.jsonl", "--cores", "2", "--configfile", str(TEST_CONFIG))
    model = guessing_model(read_jsonl(workdir / "results/base0/world/train.jsonl"), workdir / "guess")
    (workdir / "model.yaml").write_text(yaml.safe_dump({"model": {"name": str(model)}}))
    (workdir / "two.yaml").write_text(yaml.safe_dump({"compute": {"train": {"processes": 2}}}))
    configs = ["--configfile", str(TEST_CONFIG), str(workdir / "model.yaml")]
    targets = [f"{SFT}/manifest.json", f"{SDPO}/manifest.json"]
    run(workdir, *targets, "--cores", "2", *configs)
    for cell in (SFT, SDPO):
        shutil.copytree(workdir / cell, workdir / "one" / cell)
    shutil.copytree(workdir / "logs/base0/grid", workdir / "one/logs")
    # the process count moves jobs and reruns none; forced, the cells train again on two processes
    assert scheduled(snakemake(workdir, *targets, "-n", "--cores", "2", *configs, str(workdir / "two.yaml"))) == {}
    run(workdir, *targets, "--forcerun", *RULES, "--cores", "2", *configs, str(workdir / "two.yaml"))
    return workdir


def weights(folder) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def grad_norms(log) -> list[str]:
    """The gradient norm of each optimizer step as the trainer logs it (the first process only)."""
    return re.findall(r"'grad_norm': '([^']+)'", log.read_text())


def log(workdir, cell: str, one: bool = False):
    method = cell.split("/")[3]
    return workdir / ("one/logs" if one else "logs/base0/grid") / f"train_{method}_8x8_seed0.log"


@pytest.mark.parametrize("cell", [SFT, SDPO])
def test_each_output_and_record_is_written_once_as_one_process_writes_it(cells, cell):
    one, two = cells / "one" / cell, cells / cell
    assert files(two) == files(one)  # no output twice, none half-written
    for record in two.glob("**/*.prov.json"):
        mine, theirs = json.loads(record.read_text()), json.loads((one / record.relative_to(two)).read_text())
        assert {k: mine[k] for k in RECORDED} == {k: theirs[k] for k in RECORDED}, record
    args = torch.load(two / "model/training_args.bin", weights_only=False)
    single = torch.load(one / "model/training_args.bin", weights_only=False)
    assert (args.world_size, single.world_size) == (2, 1)
    # each process takes half of every batch: the optimizer step sees the one-process batch
    assert args.per_device_train_batch_size * 2 == single.per_device_train_batch_size
    audit = subprocess.run([sys.executable, "-m", "selfdistill", "audit", f"{cell}/manifest.json", f"{cell}/model"],
                           cwd=cells, capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout[-3000:]


def test_an_sft_cell_trains_the_same_model_on_two_processes(cells):
    base, one, two = (weights(cells / p) for p in ("results/base_model", f"one/{SFT}/model", f"{SFT}/model"))
    moved = max_difference(one, base)
    assert moved > 0  # the cell had data to train on
    assert max_difference(two, one) <= TOLERANCE * moved
    # the same objective: the gradient of every step has the same norm (to the digits logged)
    norms = grad_norms(log(cells, SFT, one=True))
    assert norms and grad_norms(log(cells, SFT)) == norms
    manifest = json.loads((cells / SFT / "manifest.json").read_text())
    assert manifest == json.loads((cells / "one" / SFT / "manifest.json").read_text())


def test_an_sdpo_cell_trains_its_steps_on_two_processes(cells):
    # each process samples its own rollouts, so the weights are another draw, not the same model
    assert log(cells, SDPO).read_text().count("finished at global step 4") == 2
    one, two = (json.loads((cells / p / "manifest.json").read_text()) for p in (f"one/{SDPO}", SDPO))
    assert (two["final_step"], list(two["steps"])) == (one["final_step"], list(one["steps"]))
    assert [sorted(h) for h in two["log_history"]] == [sorted(h) for h in one["log_history"]]
    assert max_difference(weights(cells / SDPO / "model"), weights(cells / "results/base_model")) > 0
    assert not (cells / "results/base0/grid/.scratch/sdpo_s/8x8/seed0").exists()  # the first process removed it
