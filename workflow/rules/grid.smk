# The distillation grid (Sections 4-6): method x task coverage x seed, each cell trained from the
# base model and evaluated at every checkpoint on seen, unseen in-domain and OOD problems.
from selfdistill.checkpoints import step_labels
from selfdistill.onpolicy import ONPOLICY

GRID = config["grid"]
GRID_DIR = f"{RESULTS}/grid"
CELL = GRID_DIR + "/{method}/{coverage}/seed{seed}"
SFT_METHODS = ("sft_ug", "sft_sg")
GRID_SPLITS = ("seen", "in_domain", "ood")


def cells():
    return [(m, c, s) for m in GRID["methods"] for c in GRID["coverage"] for s in GRID["seeds"]]


def checkpoints_of(method):
    """Evaluated checkpoints of a method: its step checkpoints, then the final model."""
    if method in SFT_METHODS:
        return ["final"]
    t = GRID["train"][method]
    return [f"step{n}" for n in step_labels(t["max_steps"], t["checkpoint_interval"])] + ["final"]


def eval_settings_grid(wildcards):
    # one setting for the base (step 0) and every checkpoint, so all compare like for like
    return {"world": config["world"], "backend": config["backend"], **GRID["evaluation"], **chat_settings()}


def coverage_source(wildcards):
    """The world's fixed set for this level where it has one (the study's files), else the pool
    the level is drawn from."""
    fixed = dict(rules.world.output.items()).get(f"coverage_{wildcards.coverage}")
    return {"given": fixed} if fixed else {"pool": rules.world.output.train}


rule coverage:
    """One task-coverage training set (nested in the larger ones) and its distinct problems."""
    input:
        unpack(coverage_source),
    output:
        rows=f"{GRID_DIR}/coverage/{{coverage}}.jsonl",
        seen=f"{GRID_DIR}/coverage/{{coverage}}.seen.jsonl",
    params:
        cmd=stage("coverage"),
        code=stage_code("coverage"),
        settings=settings(lambda w: {"label": w.coverage, "seed": GRID["coverage_seed"],
                                     "seen_max": GRID["seen_max"]}),
    log:
        "logs/grid/coverage_{coverage}.log",
    shell:
        "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


def base_grid_prompts(wildcards):
    if wildcards.split.startswith("seen_"):
        return f"{GRID_DIR}/coverage/{wildcards.split[len('seen_'):]}.seen.jsonl"
    return f"{RESULTS}/world/{wildcards.split}.jsonl"


rule evaluate_base_grid:
    """The base model under the grid's evaluation settings: every curve's step 0, on unseen
    in-domain and OOD problems once, and on each coverage level's training problems (seen_<level>)."""
    input:
        model=BASE_MODEL,
        prompts=base_grid_prompts,
    output:
        samples=f"{GRID_DIR}/base/{{split}}.samples.jsonl",
        metrics=f"{GRID_DIR}/base/{{split}}.json",
    wildcard_constraints:
        split=r"in_domain|ood|seen_[^/]+",
    params:
        cmd=stage("sample"),
        code=stage_code("sample"),
        settings=settings(eval_settings_grid),
    resources:
        **compute_resources("sample"),
    threads: 1
    log:
        "logs/grid/base_{split}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


include: "grid_offpolicy.smk"
include: "grid_onpolicy.smk"
include: "grid_summary.smk"
