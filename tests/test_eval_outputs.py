"""Evaluation outputs as evaluation harnesses write them: every sample row says which prompt it
answers, the gold answer, the answer extracted from the text and its grade; every metrics file
keeps the settings it was computed with beside the numbers it has always held."""
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from test_generation import make_model_dir

from selfdistill.evaluation.metrics import summarize
from selfdistill.io import read_json, read_jsonl, write_json, write_jsonl
from selfdistill.lineage.provenance import hash_path

PROBLEMS = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2. (2) Report the result.", "answer": str(i + 2)}
            for i in range(3)]
SAMPLING = {"n": 2, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 6, "seed": 0}


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    """One evaluation of the first two problems with the epistemic words banned."""
    tmp_path = tmp_path_factory.mktemp("eval")
    model = make_model_dir(tmp_path / "model")
    write_json(f"{model}.prov.json", {"sha256": "0" * 64})  # the record a pipeline model carries
    prompts = tmp_path / "ood.jsonl"
    write_jsonl(prompts, PROBLEMS)
    params = {"world": "arith", "backend": "hf", "batch_size": 4, "sampling": SAMPLING, "max_problems": 2,
              "ban_epistemic": True}
    out = {"samples": tmp_path / "ood.samples.jsonl", "metrics": tmp_path / "ood.json"}
    run = subprocess.run([sys.executable, "-m", "selfdistill.stages.sample", "--params", json.dumps(params),
                          "--in", f"model={model}", f"prompts={prompts}", "--out", *(f"{k}={v}" for k, v in out.items())],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return model, prompts, read_jsonl(out["samples"]), read_json(out["metrics"])


def test_sample_rows_carry_prompt_id_gold_answer_prediction_and_grade(evaluation):
    _, _, rows, _ = evaluation
    assert len(rows) == 2 * SAMPLING["n"]
    gold = {p["problem_id"]: p["answer"] for p in PROBLEMS}
    for row in rows:
        assert {"problem_id", "target", "prediction", "correct", "text", "num_tokens", "epistemic"} <= set(row)
        assert row["target"] == gold[row["problem_id"]]
        assert row["correct"] == (row["prediction"] is not None and int(row["prediction"]) == int(row["target"]))


def test_metrics_keep_their_numbers_and_carry_their_settings(evaluation):
    model, prompts, rows, metrics = evaluation
    metrics = dict(metrics)
    config = metrics.pop("config")
    assert metrics == json.loads(json.dumps(summarize(rows)))  # the numbers are what they always were
    assert config["model"] == {"path": str(model), "sha256": "0" * 64}
    assert config["dataset"] == {"path": str(prompts), "sha256": hash_path(prompts), "num_problems": 2}
    assert config["sampling"] == {**SAMPLING, "ban_epistemic": True}
    assert (config["backend"], config["world"], config["batch_size"]) == ("hf", "arith", 4)
