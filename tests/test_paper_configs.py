"""The paper's configs plan offline: a dry run lists every job of the study's grid for each model,
with a model-fetch job in place of the tiny model's pretraining, and nothing is downloaded."""
import json
import os
import re

import pytest
import yaml
from conftest import ROOT, scheduled, snakemake

PAPER = ROOT / "config" / "paper"
SFT = {"sft_ug", "sft_sg"}
# file -> (hub id, enable_thinking, methods, coverage levels)
INTERVENTIONS = ["sdpo_s_keepdoubt", "sdpo_s_doubtful"]
ALL_METHODS = ["sft_ug", "sft_sg", "sdpo_s", "sdpo_s_nothink", "sdpo_s_ema", *INTERVENTIONS, "grpo"]
EXPECTED = {
    "deepseek-r1-distill-qwen-7b.yaml": ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", None, ALL_METHODS, ["full"]),
    "qwen3-8b-thinking.yaml": ("Qwen/Qwen3-8B", True, ALL_METHODS, ["full"]),
    "qwen3-8b-nothink.yaml": ("Qwen/Qwen3-8B", False, ["sdpo_s", *INTERVENTIONS, "grpo"],
                              ["1x64", "8x8", "64", "128", "512", "full"]),
    "qwen3-1.7b.yaml": ("Qwen/Qwen3-1.7B", True, ALL_METHODS, ["full"]),
    "olmo-3-7b-instruct.yaml": ("allenai/Olmo-3-7B-Instruct", None, ALL_METHODS, ["full"]),
}


def test_every_paper_config_is_listed():
    assert sorted(p.name for p in PAPER.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_config_dry_run_plans_the_studys_grid_offline(tmp_path, name):
    hub_id, thinking, methods, coverage = EXPECTED[name]
    cache = tmp_path / "cache"
    # no network is needed: an unreachable proxy and an empty download cache change nothing
    env = {**os.environ, "SELFDISTILL_CACHE": str(cache), "HF_HUB_OFFLINE": "1",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    run = snakemake(tmp_path, "-n", "-p", "--cores", "2", "--configfile", str(PAPER / name), env=env)
    jobs = scheduled(run)

    onpolicy = [m for m in methods if m not in SFT]
    sft = [m for m in methods if m in SFT]
    assert jobs["fetch_model"] == 1 and "base_model" not in jobs
    assert jobs["world"] == 1 and jobs["coverage"] == len(coverage)
    assert jobs["train_onpolicy"] == len(onpolicy) * len(coverage)
    assert jobs["train_sft"] == len(sft) * len(coverage)
    # one evaluation job per cell; the study's 100 steps are 200 optimizer steps here, a checkpoint
    # every 20: an on-policy cell's job evaluates 9 and the final model
    assert {rule: jobs[rule] for rule in jobs if rule.startswith("evaluate_cell_")} == {
        f"evaluate_cell_{m}": len(coverage) for m in methods}
    outputs = re.findall(r"^rule evaluate_cell_(\w+):\n(?:.*\n)*?    output: (.*)$", run.stdout, flags=re.M)
    assert {m: len(re.findall(r"/eval/\w+/ood\.json\b", out)) for m, out in outputs} == {
        m: 10 if m in onpolicy else 1 for m in methods}
    assert jobs["evaluate_base"] == 4 and jobs["teacher_traces"] == 4
    assert not cache.exists()

    commands = re.findall(r"python -m selfdistill\.stages\.(\w+) .*?--params '(\{.*?\})'", run.stdout)
    fetch = [json.loads(p) for stage, p in commands if stage == "fetch_model"]
    assert fetch == [{"name": hub_id, "revision": None, "gguf_file": None, "dtype": "bfloat16"}]
    # the thinking switch reaches every job that renders prompts, and only those
    renders = [json.loads(p) for stage, p in commands
               if stage in ("sample", "select_problems", "contexts", "train_onpolicy", "train_sft")]
    assert renders and all(p.get("enable_thinking") == thinking for p in renders)
    # Section 4 as the study ran it: SFT data from the Section 3 problems and their c = s traces
    sft_jobs = re.findall(r"stages\.train_sft .*?--in (.*?) --out", run.stdout)
    assert len(sft_jobs) == len(sft) * len(coverage)
    assert all(j.split() == ["problems=results/base0/section3/problems.jsonl",
                             "guided=results/base0/section3/traces/s.samples.jsonl",
                             "model=results/base_model"]
               for j in sft_jobs)
    assert not {"offpolicy_unguided", "offpolicy_guided"} & set(jobs)
    # the teacher probe's own batch size: ~26k-token sequences, 8 per pass on one 80 GB GPU
    assert [p["batch_size"] for stage, p in map(lambda c: (c[0], json.loads(c[1])), commands)
            if stage == "teacher_probe"] == [8]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_configs_hold_the_studys_training_settings(name):
    grid = yaml.safe_load((PAPER / name).read_text())["grid"]
    train = grid["train"]
    for method in grid["methods"]:
        if method in SFT:
            continue
        t = train[method]
        assert t["num_generations"] == 8 and t["temperature"] == 1.0 and t["max_completion_length"] == 20480
        assert t["max_steps"] == 200 and t["warmup_steps"] == 20 and t["checkpoint_interval"] == 20
        if method == "grpo":
            assert (t["learning_rate"], t["epsilon"], t["epsilon_high"], t["scale_rewards"], t["beta"]) == \
                (1e-6, 0.2, 0.28, "none", 0.0)
        else:
            assert (t["learning_rate"], t["distillation_topk"], t["distillation_alpha"], t["distillation_is_clip"],
                    t["teacher_update_rate"]) == (1e-5, 100, 0.5, 2.0, 0.05 if method == "sdpo_s_ema" else 0.0)
    # Section 5: 128-prompt mini-batches of 256-prompt steps; Section 6: 32 of 64
    sizes = {train[m]["batch_size"] for m in grid["methods"] if m not in SFT}
    assert sizes == ({32 * 8} if "1x64" in grid["coverage"] else {128 * 8})


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_configs_train_as_the_study_steps(tmp_path, name):
    """What TRL receives: one generation feeds two optimizer steps with the generating policy's
    log-probs kept (TRL computes them when gradient accumulation does not cover a generation),
    the EMA teacher moves once per generation, and the lengths and losses are the study's."""
    from selfdistill.training.onpolicy import training_args

    grid = yaml.safe_load((PAPER / name).read_text())["grid"]
    for method in [m for m in grid["methods"] if m not in SFT]:
        args = training_args(method, grid["train"][method], str(tmp_path), seed=0, use_cpu=True)
        assert args.steps_per_generation == 2 * args.gradient_accumulation_steps
        assert args.gradient_accumulation_steps % (args.steps_per_generation * args.num_iterations) != 0
        assert args.generation_batch_size == 2 * grid["train"][method]["batch_size"]
        if method == "grpo":
            assert (args.loss_type, args.delta, args.epsilon, args.epsilon_high) == ("grpo", 3.0, 0.2, 0.28)
            assert (args.vllm_importance_sampling_correction, args.vllm_importance_sampling_mode,
                    args.vllm_importance_sampling_clip_max) == (True, "token_truncate", 2.0)
        else:
            assert (args.max_prompt_length, args.max_reprompt_len, args.teacher_sync_steps) == (2048, 22528, 2)


def settings_table() -> list[tuple[str, object, str, str]]:
    """(setting, official value, key, configs) for each row of config/paper/README.md's table."""
    rows = []
    for line in (PAPER / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[1].startswith("`"):
            rows.append((cells[0], yaml.safe_load(cells[1].strip("`")), cells[2].strip("`"), cells[3]))
    return rows


def applies(configs: str, grid: dict) -> bool:
    section6 = "1x64" in grid["coverage"]
    return {"all": True, "section 6": section6, "sections 3-5": not section6}[configs]


def lookup(config: dict, key: str) -> list:
    """The values at a dotted key; <onpolicy> and <sdpo> expand over the config's methods, and a
    named method's key is looked up only where the config trains that method."""
    methods = config["grid"]["methods"]
    groups = {"<onpolicy>": [m for m in methods if m not in SFT], "<sdpo>": [m for m in methods if m.startswith("sdpo")]}
    parts = key.split(".")
    if parts[:2] == ["grid", "train"]:
        names = groups.get(parts[2], [parts[2]] if parts[2] in methods else [])
        keys = [["grid", "train", name, *parts[3:]] for name in names]
    else:
        keys = [parts]
    values = []
    for path in keys:
        node = config
        for p in path:
            assert isinstance(node, dict) and p in node, f"{key}: {'.'.join(path)} is not in the config"
            node = node[p]
        values.append(node)
    return values


def test_the_settings_table_covers_the_study():
    keys = {key for _, _, key, _ in settings_table()}
    assert len(settings_table()) >= 40
    for needed in ("grid.train.<sdpo>.max_teacher_prompt_length", "grid.train.<onpolicy>.max_prompt_length",
                   "grid.train.<onpolicy>.optimizer_steps_per_generation", "grid.train.grpo.loss_type",
                   "grid.train.grpo.dual_clip", "grid.offpolicy.protocol"):
        assert needed in keys


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_config_matches_every_row_of_the_settings_table(name):
    config = yaml.safe_load((PAPER / name).read_text())
    checked = 0
    for setting, value, key, configs in settings_table():
        if not applies(configs, config["grid"]):
            continue
        found = lookup(config, key)
        assert found == [value] * len(found), f"{name}: {setting} ({key}) is {found}, the study's is {value!r}"
        checked += len(found)
    assert checked >= 40
