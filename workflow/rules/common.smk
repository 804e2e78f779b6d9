# Shared by every rule: config validation, the command line that runs a stage, and what
# Snakemake records about each job so that a change reruns exactly the jobs it affects.
import json
import os
import shlex

from snakemake.exceptions import WorkflowError

from selfdistill.codehash import code_hash
from selfdistill.compute import launcher, rule_resources
from selfdistill.config import validate_config
from selfdistill.tracking import job_environment

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


def stage(name):
    """Params callable giving `python -m selfdistill.stages.<name>` with the rule's named inputs
    and outputs, started on the job's GPUs where it has any (selfdistill/compute.py). Snakemake
    does not record callables of input/output/resources, so settings go apart, and moving a job
    to other hardware reruns nothing."""

    def command(wildcards, input, output, resources):
        def pairs(files):
            return " ".join(f"{k}={shlex.quote(str(v))}" for k, v in files.items())

        start = launcher(COMPUTE, name, resources.get("gpu", 0), workflow.basedir)
        track = job_environment(config.get("report_to", "none"), name, dict(wildcards.items()))
        args = [f"{track}{start} selfdistill.stages.{name}",
                "--cell", shlex.quote(json.dumps(dict(wildcards.items()), sort_keys=True))]
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
    """Hash of the code `python -m selfdistill.stages.<name>` runs (the module and the library
    modules it imports). A plain-string param, so Snakemake records it and an edit to that code
    reruns the stage; its own code trigger only sees the shell line. Kept out of `--params`, so
    the provenance params stay the stage's settings alone."""
    return code_hash(f"selfdistill.stages.{name}")


def compute_resources(name):
    """A rule's resources for running `selfdistill.stages.<name>`: its GPU count, memory and run
    time from the config's compute section (none where that is absent)."""
    return rule_resources(COMPUTE, name)
