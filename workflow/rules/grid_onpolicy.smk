# On-policy self-distillation and its RL baseline (Sections 5-6).


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
        "logs/base{base}/grid/train_{method}_{coverage}_seed{seed}.log",
    benchmark:
        f"{BENCHMARKS}/train_onpolicy/base{{base}}_{{method}}_{{coverage}}_seed{{seed}}.tsv"
    wildcard_constraints:
        # every method that is not SFT (selfdistill.training.onpolicy.ONPOLICY; the schema lists them)
        method=r"(?!sft_)\w+",
    # a failed attempt resumes from its scratch checkpoints rather than starting over
    retries: 2
    conda:
        GPU_ENV
    threads: compute_threads("train_onpolicy")
    resources:
        **compute_resources("train_onpolicy"),
    params:
        cmd=stage("train_onpolicy"),
        code=stage_code("train_onpolicy"),
        settings=settings(onpolicy_settings),
    shell:
        "OMP_NUM_THREADS={threads} TRL_EXPERIMENTAL_SILENCE=1 {params.cmd} --params {params.settings:q} > {log} 2>&1"
