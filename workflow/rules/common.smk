# Shared by every rule: config validation, the command line that runs a stage, and what
# Snakemake records about each job so that a change reruns exactly the jobs it affects.
import json
import os
import shlex

from snakemake.exceptions import WorkflowError

from selfdistill.config import validate_config
from selfdistill.data.templates import RICHNESS
from selfdistill.lineage.codehash import code_hash
from selfdistill.training.checkpoints import step_labels
from selfdistill.training.compute import launcher, rule_resources
from selfdistill.training.tracking import job_environment

# stop before any job starts, naming every bad key
validate_config(config, root=workflow.basedir)
COMPUTE = config.get("compute", {})
try:
    ALL_CORES = workflow.cores
except WorkflowError:  # --unlock and the like run no job and take no --cores
    ALL_CORES = 1

RESULTS = "results"
BASE_MODEL = f"{RESULTS}/base_model"
SPLITS = ("train", "in_domain", "ood")
EVAL_SPLITS = ("in_domain", "ood")
MODEL = config["model"]
GRID = config["grid"]
GRID_DIR = f"{RESULTS}/grid"
CELL = f"{GRID_DIR}/{{method}}/{{coverage}}/seed{{seed}}"
SFT_METHODS = ("sft_ug", "sft_sg")
GRID_SPLITS = ("seen", "in_domain", "ood")
OFFPOLICY_DIR = f"{GRID_DIR}/offpolicy/{{coverage}}"
OFFPOLICY_PROTOCOL = GRID["offpolicy"].get("protocol", "coverage")
# Snakemake's own record of each job's time, memory and I/O, as <rule>.tsv or <rule>/<job>.tsv
# (benchmarks/job_times.py sums them per rule)
BENCHMARKS = f"{RESULTS}/benchmarks"
# each rule's software (`snakemake --sdm conda`), relative to this folder: the analysis stages
# need no torch; the stages that run a model need torch, and vLLM where the config asks for it
ANALYSIS_ENV = "../../envs/analysis.yaml"
GPU_ENV = (
    "../../envs/vllm.yaml"
    if config["backend"] == "vllm"
    else "../../envs/pipeline.yaml"
)


# The job runs the checkout's package, the code stage_code hashed, in whatever environment it
# runs in: a rule's conda environment holds the package's dependencies, not the package.
PACKAGE_PATH = (
    f"PYTHONPATH={shlex.quote(os.path.join(workflow.basedir, 'workflow'))}"
    "${PYTHONPATH:+:$PYTHONPATH}"
)


def stage(name, rule=None):
    """Params callable giving `python -m selfdistill.stages.<name>` with the rule's name (the
    stage's own unless given) and named inputs and outputs, started on the job's GPUs where it
    has any (selfdistill/training/compute.py). Snakemake does not record callables of
    input/output/resources, so settings go apart, and moving a job to other hardware reruns
    nothing."""

    def command(wildcards, input, output, resources):
        def pairs(files):
            return " ".join(f"{k}={shlex.quote(str(v))}" for k, v in files.items())

        start = launcher(COMPUTE, name, resources.get("gpu", 0), workflow.basedir)
        track = job_environment(
            config.get("report_to", "none"), name, dict(wildcards.items())
        )
        args = [
            f"{track}{PACKAGE_PATH} {start} selfdistill.stages.{name}",
            f"--rule {rule or name}",
            "--cell",
            shlex.quote(json.dumps(dict(wildcards.items()), sort_keys=True)),
        ]
        if len(input):
            args += ["--in", pairs(input)]
        return " ".join(args + ["--out", pairs(output)])

    return command


def settings(select=lambda wildcards: {}):
    """Params callable giving the JSON settings of one job. Snakemake records this value, so a
    change in it, and only in it, reruns the job (the `params` rerun trigger)."""
    return lambda wildcards: json.dumps(select(wildcards), sort_keys=True)


def chat_settings():
    """The chat template's thinking switch, for every job that renders prompts. Left out while
    null: that is the template's default, the same as not passing it, so configs that never set
    it keep their jobs' settings."""
    thinking = config["model"]["enable_thinking"]
    return {} if thinking is None else {"enable_thinking": thinking}


def stage_code(name):
    """Hash of what `python -m selfdistill.stages.<name>` runs (the definitions it reaches in the
    package, as syntax trees). A plain-string param, so Snakemake records it and a change to it
    reruns the stage; its own code trigger only sees the shell line. Kept out of `--params`, so
    the provenance params stay the stage's settings alone."""
    return code_hash(f"selfdistill.stages.{name}")


def compute_resources(name):
    """A rule's resources for running `selfdistill.stages.<name>`: its GPU count, memory and run
    time from the config's compute section (none where that is absent)."""
    return rule_resources(COMPUTE, name)


# Evaluation of the base model (evaluate.smk)


def eval_settings(wildcards):
    return {
        "world": config["world"],
        "backend": config["backend"],
        **config["evaluation"],
        "ban_epistemic": wildcards.decoding == "banned",
        **chat_settings(),
    }


# Section 3: problems, contexts, teacher traces (section3.smk)


def section3_settings(*keys):
    def settings(wildcards):
        s3 = config["section3"]
        return {
            "world": config["world"],
            "backend": config["backend"],
            **{k: s3[k] for k in keys},
            **chat_settings(),
        }

    return settings


def trace_settings(wildcards):
    s3 = config["section3"]
    sampling = {**s3["sampling"], "n": s3["traces_per_problem"], "seed": s3["seed"]}
    return {
        "world": config["world"],
        "backend": config["backend"],
        "batch_size": s3["batch_size"],
        "sampling": sampling,
        **chat_settings(),
    }


def probe_settings(wildcards):
    s3 = config["section3"]
    return {
        "batch_size": s3.get("probe_batch_size", s3["batch_size"] // 8),
        **chat_settings(),
    }


# The distillation grid (grid*.smk)


def cells():
    return [
        (m, c, s)
        for m in GRID["methods"]
        for c in GRID["coverage"]
        for s in GRID["seeds"]
    ]


def checkpoints_of(method):
    """Evaluated checkpoints of a method: its step checkpoints, then the final model."""
    if method in SFT_METHODS:
        return ["final"]
    t = GRID["train"][method]
    steps = step_labels(t["max_steps"], t["checkpoint_interval"])
    return [f"step{n}" for n in steps] + ["final"]


def eval_settings_grid(wildcards):
    # one setting for the base (step 0) and every checkpoint, so all compare like for like
    return {
        "world": config["world"],
        "backend": config["backend"],
        **GRID["evaluation"],
        **chat_settings(),
    }


def coverage_source(wildcards):
    """The world's fixed set for this level where it has one (the study's files), else the pool
    the level is drawn from."""
    fixed = dict(rules.world.output.items()).get(f"coverage_{wildcards.coverage}")
    return {"given": fixed} if fixed else {"pool": rules.world.output.train}


def coverage_settings(wildcards):
    return {
        "label": wildcards.coverage,
        "seed": GRID["coverage_seed"],
        "seen_max": GRID["seen_max"],
    }


def base_grid_prompts(wildcards):
    if wildcards.split.startswith("seen_"):
        level = wildcards.split[len("seen_") :]
        return f"{GRID_DIR}/coverage/{level}.seen.jsonl"
    return f"{RESULTS}/world/{wildcards.split}.jsonl"


def offpolicy_protocol():
    """The protocol reaches the job's params only where set, so the default's jobs keep theirs."""
    return {"protocol": OFFPOLICY_PROTOCOL} if "protocol" in GRID["offpolicy"] else {}


def offpolicy_sampling(wildcards):
    o = GRID["offpolicy"]
    return {
        "world": config["world"],
        "backend": config["backend"],
        "batch_size": o["batch_size"],
        "sampling": o["sampling"],
        **chat_settings(),
    }


def sft_data(wildcards):
    """Section 3's problems and c = s teacher traces (the study's protocol), or the coverage set
    and its off-policy samples."""
    if OFFPOLICY_PROTOCOL == "section3":
        return {
            "problems": rules.select_problems.output.selected,
            "guided": expand(rules.teacher_traces.output.samples, richness="s")[0],
        }
    return {
        name: expand(path, coverage=wildcards.coverage)[0]
        for name, path in (
            ("coverage", rules.coverage.output.rows),
            ("unguided", rules.offpolicy_unguided.output.samples),
            ("guided", rules.offpolicy_guided.output.samples),
        )
    }


def sft_settings(wildcards):
    return {
        "method": wildcards.method,
        "seed": int(wildcards.seed),
        "train": GRID["train"][wildcards.method],
        **chat_settings(),
        **offpolicy_protocol(),
    }


def onpolicy_settings(wildcards):
    w = wildcards
    return {
        "method": w.method,
        "seed": int(w.seed),
        "world": config["world"],
        "train": GRID["train"][w.method],
        # outside the outputs, which Snakemake deletes when a job fails
        "scratch": f"{GRID_DIR}/.scratch/{w.method}/{w.coverage}/seed{w.seed}",
        **chat_settings(),
    }


def checkpoint_input(wildcards):
    """The final model, or for a step checkpoint the folder that holds it."""
    if wildcards.checkpoint == "final":
        return f"{CELL}/model"
    return f"{CELL}/checkpoints"


def eval_command(wildcards, input, output, resources):
    model = input.model
    if wildcards.checkpoint != "final":
        model = f"{model}/{wildcards.checkpoint}"
    inputs = {**dict(input.items()), "model": model}
    return stage("sample", "evaluate_checkpoint")(wildcards, inputs, output, resources)


def grid_inputs(wildcards):
    inputs = {"probe": rules.teacher_probe.output.table}
    for level in RICHNESS:
        inputs[f"traces__{level}"] = f"{RESULTS}/section3/traces/{level}.json"
    for method, coverage, seed in cells():
        cell = CELL.format(method=method, coverage=coverage, seed=seed)
        key = f"{method}__{coverage}__{seed}"
        inputs[f"manifest__{key}"] = f"{cell}/manifest.json"
        for checkpoint in checkpoints_of(method):
            for split in GRID_SPLITS:
                path = f"{cell}/eval/{checkpoint}/{split}.json"
                inputs[f"eval__{key}__{checkpoint}__{split}"] = path
    for coverage in GRID["coverage"]:
        inputs[f"base__{coverage}__seen"] = f"{GRID_DIR}/base/seen_{coverage}.json"
        for split in EVAL_SPLITS:
            inputs[f"base__{coverage}__{split}"] = f"{GRID_DIR}/base/{split}.json"
    return inputs
