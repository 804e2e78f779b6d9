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
    params = {"world": "arith", "backend": "hf", "batch_size": 4, "shard_batches": 1, "sampling": SAMPLING, "max_problems": 2,
              "ban_epistemic": True}
    out = {"samples": tmp_path / "ood.samples.jsonl", "metrics": tmp_path / "ood.json"}
    run_sample(params, {"model": model, "prompts": prompts}, out)
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


def run_sample(params: dict, inputs: dict, outputs: dict, cell: dict | None = None) -> None:
    run = subprocess.run([sys.executable, "-m", "selfdistill.stages.sample", "--params", json.dumps(params),
                          "--cell", json.dumps(cell or {}, sort_keys=True), "--rule", "r",
                          "--in", *(f"{k}={v}" for k, v in inputs.items()),
                          "--out", *(f"{k}={v}" for k, v in outputs.items())],
                         env={**os.environ, "PYTHONPATH": str(ROOT / "workflow")}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]


def test_one_job_on_several_checkpoints_writes_what_a_job_per_checkpoint_writes(tmp_path):
    models = {"step1": make_model_dir(tmp_path / "step1"), "final": make_model_dir(tmp_path / "final", {"7": 5.0})}
    prompts = tmp_path / "ood.jsonl"
    write_jsonl(prompts, PROBLEMS)
    params = {"world": "arith", "backend": "hf", "batch_size": 2, "shard_batches": 1, "sampling": SAMPLING}
    cell = {"method": "m", "coverage": "8x8", "seed": "0"}

    def outputs(folder, label=""):
        return {f"{kind}_ood{label}": tmp_path / folder / name for kind, name in
                (("samples", "ood.samples.jsonl"), ("metrics", "ood.json"))}

    for checkpoint, model in models.items():
        run_sample(params, {"model": model, "prompts_ood": prompts}, outputs(f"alone/{checkpoint}"),
                   {**cell, "checkpoint": checkpoint})
    together = {k: v for c in models for k, v in outputs(f"together/{c}", f"@{c}").items()}
    run_sample(params, {**{f"model@{c}": m for c, m in models.items()}, "prompts_ood": prompts}, together, cell)

    for checkpoint, model in models.items():
        for name in ("ood.samples.jsonl", "ood.json"):
            alone, joint = tmp_path / "alone" / checkpoint / name, tmp_path / "together" / checkpoint / name
            assert alone.read_bytes() == joint.read_bytes(), name
            record, joint_record = read_json(f"{alone}.prov.json"), read_json(f"{joint}.prov.json")
            assert joint_record["cell"] == {**cell, "checkpoint": checkpoint}
            assert joint_record["inputs"] == record["inputs"]  # its own model, the shared prompts
            assert joint_record["inputs"]["model"]["path"] == model
    # the two checkpoints are different models, so the comparison above could have failed
    assert (tmp_path / "together/step1/ood.samples.jsonl").read_bytes() != (
        tmp_path / "together/final/ood.samples.jsonl").read_bytes()


def test_a_checkpoint_evaluated_in_its_own_process_writes_what_it_writes_in_this_one(tmp_path):
    from types import SimpleNamespace

    from selfdistill.stages.sample import evaluate, in_own_process

    model = make_model_dir(tmp_path / "model")
    prompts = tmp_path / "ood.jsonl"
    write_jsonl(prompts, PROBLEMS)
    params = {"world": "arith", "backend": "hf", "batch_size": 2, "shard_batches": 1, "sampling": SAMPLING}
    for how, run in (("here", evaluate), ("apart", lambda *args: in_own_process(evaluate, *args))):
        run(params, SimpleNamespace(model=model, prompts_ood=prompts),
            SimpleNamespace(samples_ood=tmp_path / how / "s.jsonl", metrics_ood=tmp_path / how / "m.json"), "code")
    for name in ("s.jsonl", "m.json"):
        assert (tmp_path / "apart" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
    with pytest.raises(SystemExit, match="exit code"):
        in_own_process(evaluate, params, SimpleNamespace(model=tmp_path / "missing", prompts_ood=prompts),
                       SimpleNamespace(samples_ood=tmp_path / "x.jsonl", metrics_ood=tmp_path / "x.json"), "code")
