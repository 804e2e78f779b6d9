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
    log:
        "logs/grid/train_{method}_{coverage}_seed{seed}.log",
    benchmark:
        f"{BENCHMARKS}/train_onpolicy/{{method}}_{{coverage}}_seed{{seed}}.tsv"
    wildcard_constraints:
        # every method that is not SFT (selfdistill.training.onpolicy.ONPOLICY; the schema lists them)
        method=r"(?!sft_)\w+",
    # a failed attempt resumes from its scratch checkpoints rather than starting over
    retries: 2
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("train_onpolicy"),
    params:
        cmd=stage("train_onpolicy"),
        code=stage_code("train_onpolicy"),
        settings=settings(onpolicy_settings),
    shell:
        "OMP_NUM_THREADS={threads} TRL_EXPERIMENTAL_SILENCE=1 {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule evaluate_checkpoint:
    """One checkpoint on seen (its coverage set), unseen in-domain and OOD problems."""
    input:
        model=checkpoint_input,
        prompts_seen=rules.coverage.output.seen,
        prompts_in_domain=rules.world.output.in_domain,
        prompts_ood=rules.world.output.ood,
    output:
        **{
            f"{kind}_{split}": f"{CELL}/eval/{{checkpoint}}/{split}{ext}"
            for split in GRID_SPLITS
            for kind, ext in (("samples", ".samples.jsonl"), ("metrics", ".json"))
        },
    log:
        "logs/grid/eval_{method}_{coverage}_seed{seed}_{checkpoint}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_checkpoint/{{method}}_{{coverage}}_seed{{seed}}_{{checkpoint}}.tsv"
    wildcard_constraints:
        checkpoint=r"final|step\d+",
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=eval_command,
        code=stage_code("sample"),
        settings=settings(eval_settings_grid),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
