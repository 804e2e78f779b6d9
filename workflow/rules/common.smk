# Shared by every rule: config validation, the command line that runs a stage, and what
# Snakemake records about each job so that a change reruns exactly the jobs it affects.
import json
import os
import shlex

from snakemake.exceptions import WorkflowError

from selfdistill.bases import base_config
from selfdistill.config import validate_config
from selfdistill.data.arith_splits import settings as arith_settings
from selfdistill.data.coverage import LEVELS
from selfdistill.data.templates import RICHNESS
from selfdistill.lineage.codehash import code_hash
from selfdistill.training.compute import launcher, processes, rule_resources
from selfdistill.training.tracking import job_environment

# stop before any job starts, naming every bad key
validate_config(config, root=workflow.basedir)
COMPUTE = config.get("compute", {})
try:
    ALL_CORES = workflow.cores
except WorkflowError:  # --unlock and the like run no job and take no --cores
    ALL_CORES = 1

RESULTS = "results"
BASES = config["bases"]
MODEL = config["model"]
# One folder per base model (config `bases`): its world, model, evaluations, Section 3 and grid;
# what takes no seed from the base (the math world's files, a pretrained model) is shared. Its
# summaries sit in a folder of its own among the pooled ones, to be fetched without the models.
BASE_DIR = f"{RESULTS}/base{{base}}"
BASE_MODEL = (
    f"{BASE_DIR}/base_model" if MODEL["name"] == "built_in" else f"{RESULTS}/base_model"
)
WORLD_DIR = f"{BASE_DIR}/world" if config["world"] == "arith" else f"{RESULTS}/world"
SPLITS = ("train", "in_domain", "ood")
EVAL_SPLITS = ("in_domain", "ood")
WORLD = {split: f"{WORLD_DIR}/{split}.jsonl" for split in SPLITS}
CORPUS = f"{WORLD_DIR}/pretrain_corpus.jsonl"
SUMMARY = f"{RESULTS}/summary/base{{base}}"
FIGURES = f"{RESULTS}/figures/base{{base}}"
GRID = config["grid"]
GRID_DIR = f"{BASE_DIR}/grid"
CELL = f"{GRID_DIR}/{{method}}/{{coverage}}/seed{{seed}}"
SFT_METHODS = ("sft_ug", "sft_sg")
GRID_SPLITS = ("seen", "in_domain", "ood")
OFFPOLICY_DIR = f"{GRID_DIR}/offpolicy/{{coverage}}"
OFFPOLICY_PROTOCOL = GRID["offpolicy"].get("protocol", "coverage")
# Snakemake's own record of each job's time, memory and I/O, as <rule>.tsv or <rule>/<job>.tsv
# (benchmarks/job_times.py sums them per rule); a base's jobs as <rule>/base<base>[_<job>].tsv
BENCHMARKS = f"{RESULTS}/benchmarks"


wildcard_constraints:
    base=r"\d+",


def of_base(wildcards):
    """The config as the job's base model sees it: the base's entry as every seed it decides."""
    return base_config(config, int(wildcards.base))


def per_base(path):
    """`path` for every base of the config (a pooled job's inputs)."""
    return expand(path, base=BASES)


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

    def command(wildcards, input, output, threads, resources):
        def pairs(files):
            return " ".join(f"{k}={shlex.quote(str(v))}" for k, v in files.items())

        start = launcher(
            COMPUTE, name, resources.get("gpu", 0), workflow.basedir, threads
        )
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


def sampling_job():
    """What every job of the sample stage is given beside its own section's settings."""
    return {
        "world": config["world"],
        "backend": config["backend"],
        "shard_batches": config["shard_batches"],
    }


def compute_resources(name):
    """A rule's resources for running `selfdistill.stages.<name>`: its GPU count, memory and run
    time from the config's compute section (none where that is absent)."""
    return rule_resources(COMPUTE, name)


def compute_threads(name):
    """A training rule's threads: one per process of its job (compute.train.processes)."""
    return processes(COMPUTE, name)


# The arithmetic world (world.smk): each split and the corpus see only their own settings


def arith_split_settings(wildcards):
    return arith_settings(of_base(wildcards)["arith"], wildcards.split)


def arith_corpus_settings(wildcards):
    return arith_settings(of_base(wildcards)["arith"], "pretrain")


# Evaluation of the base model (evaluate.smk)


def eval_settings(wildcards):
    return {
        **sampling_job(),
        **of_base(wildcards)["evaluation"],
        "ban_epistemic": wildcards.decoding == "banned",
        **chat_settings(),
    }


# The arithmetic world's premises on its base model (premises.smk)


def premise_settings(wildcards):
    cfg = of_base(wildcards)
    a, sft = cfg["arith"], cfg["grid"]["train"]["sft_sg"]
    return {
        "errors": a["errors"],
        "error_model": a[a["errors"]],
        # D_sg holds one trace per distinct problem of the largest coverage level
        "d_sg": max(LEVELS[c][0] or a["train_size"] for c in cfg["grid"]["coverage"]),
        # the grid's SFT as train_sft runs it
        "sft": {
            **{
                k: sft[k]
                for k in (
                    "learning_rate",
                    "epochs",
                    "batch_size",
                    "warmup_ratio",
                    "max_length",
                )
            },
            "lr_scheduler": "constant_with_warmup",
        },
        "sampling": cfg["evaluation"]["sampling"],
        "batch_size": cfg["evaluation"]["batch_size"],
        "seed": cfg["base_model"]["train"]["seed"],
    }


# Section 3: problems, contexts, teacher traces (section3.smk)


def section3_settings(*keys):
    def settings(wildcards):
        s3 = of_base(wildcards)["section3"]
        return {
            "world": config["world"],
            "backend": config["backend"],
            **{k: s3[k] for k in keys},
            **chat_settings(),
        }

    return settings


def trace_settings(wildcards):
    s3 = of_base(wildcards)["section3"]
    sampling = {**s3["sampling"], "n": s3["traces_per_problem"], "seed": s3["seed"]}
    return {
        **sampling_job(),
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
