"""The workflow as a user runs it: dry runs of the default config, the test config end to end."""
import json
import re
import subprocess
import sys

import pandas as pd
from conftest import ROOT, TEST_METHODS, evaluations, snakemake


def test_default_config_dry_run_lists_every_stage(tmp_path):
    run = snakemake(tmp_path, "-n", "--cores", "2")
    assert run.returncode == 0, run.stderr
    for rule in ("world", "base_model", "evaluate_base", "base_summary", "select_problems", "contexts",
                 "teacher_traces", "richness_table", "teacher_probe", "coverage", "evaluate_base_grid", "offpolicy_unguided",
                 "offpolicy_contexts", "offpolicy_guided", "train_sft", "train_onpolicy", "evaluate_cell_sdpo_s",
                 "evaluate_cell_sft_ug", "grid_summary", "job_times", "premises"):
        assert f"rule {rule}:" in run.stdout
    # two splits x two decodings, and one trace job per richness level
    assert run.stdout.count("rule evaluate_base:") == 4
    assert run.stdout.count("rule teacher_traces:") == 4
    # 6 methods x 2 coverage levels x 3 seeds; on-policy cells keep a checkpoint every 5 of 10 steps
    assert run.stdout.count("rule train_sft:") == 12 and run.stdout.count("rule train_onpolicy:") == 24
    # the base as step 0: unseen in-domain and OOD once, the seen split per coverage level
    assert run.stdout.count("rule evaluate_base_grid:") == 2 + 2


def test_default_config_evaluates_each_cell_in_one_job_that_writes_every_checkpoints_files(tmp_path):
    run = snakemake(tmp_path, "-n", "--cores", "2")
    assert run.returncode == 0, run.stderr
    jobs = re.findall(r"^rule evaluate_cell_(\w+):\n(?:.*\n)*?    output: (.*)\n(?:.*\n)*?    wildcards: (.*)$",
                      run.stdout, flags=re.M)
    cells = [(m, c, s) for m in ("sft_ug", "sft_sg", "sdpo_s", "sdpo_s_nothink", "sdpo_s_keepdoubt", "grpo")
             for c in ("8x8", "128") for s in (0, 1, 2)]
    found = {}
    for rule_method, outputs, wildcards in jobs:
        w = dict(pair.split("=") for pair in wildcards.split(", "))
        assert w["method"] == rule_method
        found[w["method"], w["coverage"], int(w["seed"])] = set(outputs.split(", "))
    assert len(jobs) == len(found) == len(cells) and set(found) == set(cells)  # one job per cell
    for (method, coverage, seed), outputs in found.items():
        # SFT cells have their final model; on-policy ones a checkpoint at step 5 of 10 as well
        checkpoints = ["final"] if method.startswith("sft_") else ["step5", "final"]
        cell = f"results/base0/grid/{method}/{coverage}/seed{seed}/eval"
        assert outputs == {f"{cell}/{c}/{split}{ext}" for c in checkpoints for split in ("seen", "in_domain", "ood")
                           for ext in (".samples.jsonl", ".json")}


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("arith:\n  train_size: -1\nsection3:\n  samplez: 3\n")
    run = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(bad))
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "arith.train_size" in out and "minimum" in out
    assert "'samplez' was unexpected" in out
    assert "rule world:" not in out


def test_end_to_end_writes_the_promised_files(test_run):
    summary = json.loads((test_run / "results/summary/base0/base_model.json").read_text())
    assert set(summary) == {"in_domain", "ood"}
    for split in summary.values():
        for key in ("accuracy", "accuracy_epistemic_banned", "pass_at_k", "mean_length", "mean_epistemic"):
            assert isinstance(split[key], float)
        assert 0 <= split["accuracy"] <= split["pass_at_k"] <= 1

    table = pd.read_csv(test_run / "results/summary/base0/richness.csv")
    assert list(table["richness"]) == ["none", "s_nothink", "regen", "s"]
    for column in ("score", "mean_length", "mean_epistemic", "mean_epistemic_word_boundary"):
        assert table[column].notna().all()
    # the word-boundary rule never counts more than the substring rule
    assert (table["mean_epistemic_word_boundary"] <= table["mean_epistemic"]).all()

    for figure in ("base_model.png", "richness.png"):
        assert (test_run / "results/figures/base0" / figure).read_bytes()[:4] == b"\x89PNG"
    assert (test_run / "results/base0/base_model/model.safetensors").exists()
    assert (test_run / "results/base0/base_model/tokenizer.json").exists()


def test_contexts_reveal_more_at_each_level(test_run):
    def rows(level):
        lines = (test_run / f"results/base0/section3/contexts/{level}.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    none, nothink, s = rows("none"), rows("s_nothink"), rows("s")
    assert all(r["context"] is None for r in none)
    for a, b in zip(nothink, s):
        assert a["problem_id"] == b["problem_id"]
        assert "<think>" not in a["context"] and a["context"] in b["context"]
        assert b["prompt"].endswith("Correctly solve the original question.")


def test_a_finished_run_is_up_to_date(test_run):
    run = snakemake(test_run, "-n", "--cores", "2", "--configfile", str(ROOT / "config" / "test.yaml"))
    assert run.returncode == 0
    assert "Nothing to be done" in run.stdout + run.stderr


def test_every_artifact_has_a_clean_provenance_record(test_run):
    record = json.loads((test_run / "results/summary/base0/base_model.json.prov.json").read_text())
    assert record["stage"] == "selfdistill.stages.base_summary" and record["rule"] == "base_summary"
    assert set(record["inputs"]) == {"in_domain_normal", "in_domain_banned", "ood_normal", "ood_banned"}
    cell = json.loads((test_run / "results/base0/eval/base/ood/banned.json.prov.json").read_text())["cell"]
    assert cell == {"base": "0", "split": "ood", "decoding": "banned"}
    audit = subprocess.run([sys.executable, "-m", "selfdistill.lineage.audit", "--all", "results"], cwd=test_run,
                           capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_the_grid_table_has_every_cell_checkpoint_and_split(test_run):
    grid = pd.read_csv(test_run / "results/summary/grid.csv", dtype={"coverage": str})
    for column in ("method", "richness", "coverage", "seed", "step", "split", "accuracy", "pass_at_k",
                   "mean_length", "mean_epistemic", "epistemic_wait"):
        assert column in grid.columns, column
    assert set(grid["method"]) == {"sft_ug", "sft_sg", "sdpo_s", "sdpo_s_nothink", "sdpo_s_keepdoubt",
                                   "sdpo_s_doubtful", "grpo"}
    assert set(grid["coverage"]) == {"8x8", "64"} and set(grid["split"]) == {"seen", "in_domain", "ood"}
    richness = dict(zip(grid["method"], grid["richness"]))
    assert richness == {"sft_ug": "none", "sft_sg": "s", "sdpo_s": "s", "sdpo_s_nothink": "s_nothink",
                        "sdpo_s_keepdoubt": "s", "sdpo_s_doubtful": "s_doubtful", "grpo": "none"}
    steps = grid[grid["method"] == "sdpo_s"].groupby(["coverage", "split"])["step"].apply(list)
    assert all(s == [0, 2, 4] for s in steps), steps  # base, the step-2 checkpoint, the final model
    # step 0 is the base model, the same numbers in every cell
    base = grid[(grid["step"] == 0) & (grid["split"] == "ood")]
    assert base["accuracy"].nunique() == 1
    assert grid[["accuracy", "mean_length", "mean_epistemic"]].notna().all().all()
    assert grid["accuracy"].between(0, 1).all()
    training = pd.read_csv(test_run / "results/summary/grid_training.csv", dtype={"coverage": str})
    # SFT logs no rollouts
    assert set(training["method"]) == {"sdpo_s", "sdpo_s_nothink", "sdpo_s_keepdoubt", "sdpo_s_doubtful", "grpo"}
    assert sorted(set(training["step"])) == [1, 2, 3, 4]
    assert training["reward"].between(0, 1).all() and training["completion_length"].notna().all()
    assert training.loc[training["method"] == "grpo", "reprompt_fraction"].isna().all()
    for figure in ("grid_curves.png", "grid_coverage.png", "grid_words.png", "grid_intervention.png"):
        assert (test_run / "results/figures" / figure).read_bytes()[:4] == b"\x89PNG"
    findings = (test_run / "results/summary/findings.md").read_text()
    for section in ("## The study's claims, checked", "## Why: the teacher's view", "## Change from the base"):
        assert section in findings
    probe = pd.read_csv(test_run / "results/summary/base0/teacher_probe.csv")
    assert list(dict.fromkeys(probe["richness"])) == ["none", "s_nothink", "regen", "s"]
    assert probe["mean_probability"].dropna().between(0, 1).all()


def test_grid_cells_keep_their_checkpoints_and_no_scratch(test_run):
    cell = test_run / "results/base0/grid/sdpo_s_nothink/64/seed0"
    manifest = json.loads((cell / "manifest.json").read_text())
    assert manifest["final_step"] == 4 and list(manifest["steps"]) == ["step2"]
    assert (cell / "checkpoints/step2/model.safetensors").exists()
    assert (cell / "eval/step2/ood.samples.jsonl").exists() and (cell / "eval/final/seen.json").exists()
    record = json.loads((cell / "model.prov.json").read_text())
    assert record["cell"] == {"base": "0", "method": "sdpo_s_nothink", "coverage": "64", "seed": "0"}
    assert record["params"]["train"]["distillation_topk"] == 20
    assert not any((test_run / "results/base0/grid/.scratch").rglob("checkpoint-*"))


def test_job_times_come_from_every_jobs_benchmark_file(test_run):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/job_times.py"), "results/benchmarks"], cwd=test_run,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    rows = {line.split()[0]: line.split()[1:] for line in run.stdout.splitlines()[1:-1]}
    # one benchmark file per job of the test config's 61, under its rule's name
    jobs = {rule: int(cols[0]) for rule, cols in rows.items()}
    assert {rule: jobs[rule] for rule in jobs if rule.startswith("evaluate_cell_")} == evaluations(
        dict.fromkeys(TEST_METHODS, 2))
    assert jobs["train_onpolicy"] == 10 and jobs["teacher_traces"] == 4 and jobs["world"] == 3
    assert sum(jobs.values()) == 61 and run.stdout.splitlines()[-1].split()[2] == "61"
    assert all(float(cols[1]) >= 0 for cols in rows.values())  # total seconds, measured
    # the run's own table, made before its rule's benchmark file was written, has every other job
    table = pd.read_csv(test_run / "results/summary/job_times.csv", index_col="rule")
    assert "job_times" not in table.index and table["jobs"].sum() == 60
    assert table["jobs"].to_dict() == {rule: n for rule, n in jobs.items() if rule != "job_times"}
    assert (test_run / "results/figures/job_times.png").stat().st_size > 0
