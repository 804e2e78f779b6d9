# On-policy self-distillation and its RL baseline (Sections 5-6), and every checkpoint's evaluation.


rule train_onpolicy:
    """SDPO or GRPO from the base model on a coverage set; resumes from its scratch after a kill."""
    input:
        model=BASE_MODEL,
        coverage=rules.coverage.output.rows,
    output:
        model=directory(f"{CELL}/model"),
        checkpoints=directory(f"{CELL}/checkpoints"),
        manifest=f"{CELL}/manifest.json",
    wildcard_constraints:
        method="|".join(ONPOLICY),
    params:
        cmd=stage("train_onpolicy"),
        code=stage_code("train_onpolicy"),
        settings=settings(lambda w: {
            "method": w.method, "seed": int(w.seed), "world": config["world"], "train": GRID["train"][w.method],
            # outside the outputs, which Snakemake deletes when a job fails
            "scratch": f"{GRID_DIR}/.scratch/{w.method}/{w.coverage}/seed{w.seed}", **chat_settings()}),
    resources:
        **compute_resources("train_onpolicy"),
    threads: 1
    log:
        "logs/grid/train_{method}_{coverage}_seed{seed}.log",
    shell:
        "OMP_NUM_THREADS={threads} TRL_EXPERIMENTAL_SILENCE=1 {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


def checkpoint_input(wildcards):
    """The final model, or for a step checkpoint the folder that holds it."""
    return f"{CELL}/model" if wildcards.checkpoint == "final" else f"{CELL}/checkpoints"


def eval_command(wildcards, input, output, resources):
    model = input.model if wildcards.checkpoint == "final" else f"{input.model}/{wildcards.checkpoint}"
    return stage("sample")(wildcards, {**dict(input.items()), "model": model}, output, resources)


rule evaluate_checkpoint:
    """One checkpoint on seen (its coverage set), unseen in-domain and OOD problems."""
    input:
        model=checkpoint_input,
        prompts_seen=rules.coverage.output.seen,
        prompts_in_domain=rules.world.output.in_domain,
        prompts_ood=rules.world.output.ood,
    output:
        **{f"{kind}_{split}": f"{CELL}/eval/{{checkpoint}}/{split}{ext}"
           for split in GRID_SPLITS for kind, ext in (("samples", ".samples.jsonl"), ("metrics", ".json"))},
    wildcard_constraints:
        checkpoint=r"final|step\d+",
    params:
        cmd=eval_command,
        code=stage_code("sample"),
        settings=settings(eval_settings_grid),
    resources:
        **compute_resources("sample"),
    threads: 1
    log:
        "logs/grid/eval_{method}_{coverage}_seed{seed}_{checkpoint}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
