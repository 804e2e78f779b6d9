# Helpers of the distillation grid's rules (grid*.smk): its cells, their settings and inputs.
import re

from selfdistill.training.checkpoints import step_labels


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
        **sampling_job(),
        **of_base(wildcards)["grid"]["evaluation"],
        **chat_settings(),
    }


def coverage_source(wildcards):
    """The world's fixed set for this level where it has one (the study's files), else the pool
    the level is drawn from."""
    fixed = dict(rules.world.output.items()).get(f"coverage_{wildcards.coverage}")
    return {"given": fixed} if fixed else {"pool": WORLD["train"]}


def coverage_settings(wildcards):
    return {
        "label": wildcards.coverage,
        "seed": of_base(wildcards)["grid"]["coverage_seed"],
        "seen_max": GRID["seen_max"],
    }


def base_grid_prompts(wildcards):
    if wildcards.split.startswith("seen_"):
        level = wildcards.split[len("seen_") :]
        return f"{GRID_DIR}/coverage/{level}.seen.jsonl".format(base=wildcards.base)
    return WORLD[wildcards.split].format(base=wildcards.base)


def offpolicy_protocol():
    """The protocol reaches the job's params only where set, so the default's jobs keep theirs."""
    return {"protocol": OFFPOLICY_PROTOCOL} if "protocol" in GRID["offpolicy"] else {}


def offpolicy_sampling(wildcards):
    o = of_base(wildcards)["grid"]["offpolicy"]
    return {
        **sampling_job(),
        "batch_size": o["batch_size"],
        "sampling": o["sampling"],
        **chat_settings(),
    }


def sft_data(wildcards):
    """Section 3's problems and c = s teacher traces (the study's protocol), or the coverage set
    and its off-policy samples."""
    if OFFPOLICY_PROTOCOL == "section3":
        return {
            "problems": rules.select_problems.output.selected.format(
                base=wildcards.base
            ),
            "guided": expand(
                rules.teacher_traces.output.samples, richness="s", base=wildcards.base
            )[0],
        }
    return {
        name: expand(path, coverage=wildcards.coverage, base=wildcards.base)[0]
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
        "scratch": f"{GRID_DIR.format(base=w.base)}/.scratch/{w.method}/{w.coverage}/seed{w.seed}",
        **chat_settings(),
    }


def cell_models(method):
    """Input of a cell's evaluation: the final model, and the folder of step checkpoints where
    the method publishes any."""
    models = {"model": f"{CELL}/model"}
    if checkpoints_of(method) != ["final"]:
        models["checkpoints"] = f"{CELL}/checkpoints"
    return models


def cell_eval_outputs(method):
    """Every checkpoint's samples and metrics per split, named `<kind>_<split>@<checkpoint>` as
    the sample stage pairs them with its model (selfdistill/stages/cli.py)."""
    return {
        f"{kind}_{split}@{checkpoint}": f"{CELL}/eval/{checkpoint}/{split}{ext}"
        for checkpoint in checkpoints_of(method)
        for split in GRID_SPLITS
        for kind, ext in (("samples", ".samples.jsonl"), ("metrics", ".json"))
    }


def cell_eval_command(wildcards, input, output, threads, resources):
    """The sample stage on each checkpoint of the cell in turn: `model@<checkpoint>` is the
    final model or a step's folder in the checkpoints."""
    models = {
        f"model@{c}": input.model if c == "final" else f"{input.checkpoints}/{c}"
        for c in checkpoints_of(wildcards.method)
    }
    prompts = {k: v for k, v in input.items() if k.startswith("prompts")}
    name = f"evaluate_cell_{wildcards.method}"
    return stage("sample", name)(
        wildcards, {**models, **prompts}, output, threads, resources
    )


def grid_inputs(wildcards):
    """Every base's evaluations, named `<role>__<base>__...` (selfdistill/stages/grid_summary.py)."""
    inputs = {}
    for base in BASES:
        inputs.update(base_grid_inputs(base))
    return inputs


def base_grid_inputs(base):
    grid = GRID_DIR.format(base=base)
    inputs = {f"probe__{base}": rules.teacher_probe.output.table.format(base=base)}
    if config["world"] == "arith":
        inputs[f"premises__{base}"] = rules.premises.output.table.format(base=base)
    for level in RICHNESS:
        inputs[f"traces__{base}__{level}"] = (
            f"{BASE_DIR}/section3/traces/{level}.json".format(base=base)
        )
    for method, coverage, seed in cells():
        cell = CELL.format(base=base, method=method, coverage=coverage, seed=seed)
        key = f"{base}__{method}__{coverage}__{seed}"
        inputs[f"manifest__{key}"] = f"{cell}/manifest.json"
        for checkpoint in checkpoints_of(method):
            for split in GRID_SPLITS:
                path = f"{cell}/eval/{checkpoint}/{split}.json"
                inputs[f"eval__{key}__{checkpoint}__{split}"] = path
    for coverage in GRID["coverage"]:
        inputs[f"base__{base}__{coverage}__seen"] = f"{grid}/base/seen_{coverage}.json"
        for split in EVAL_SPLITS:
            inputs[f"base__{base}__{coverage}__{split}"] = f"{grid}/base/{split}.json"
    return inputs
