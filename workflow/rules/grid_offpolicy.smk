# Off-policy self-distillation (Section 4): sample D_ug and D_sg once per coverage level, then SFT.


rule offpolicy_unguided:
    """The base model's unguided samples on a coverage set; the correct ones are D_ug."""
    input:
        model=BASE_MODEL,
        prompts=rules.coverage.output.rows,
    output:
        samples=f"{OFFPOLICY_DIR}/unguided.samples.jsonl",
        metrics=f"{OFFPOLICY_DIR}/unguided.json",
    log:
        "logs/base{base}/grid/offpolicy_unguided_{coverage}.log",
    benchmark:
        f"{BENCHMARKS}/offpolicy_unguided/base{{base}}_{{coverage}}.tsv"
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=stage("sample", "offpolicy_unguided"),
        code=stage_code("sample"),
        settings=settings(offpolicy_sampling),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule offpolicy_contexts:
    """Teacher prompts showing a correct unguided sample as the solution (c = s)."""
    input:
        coverage=rules.coverage.output.rows,
        unguided=rules.offpolicy_unguided.output.samples,
    output:
        prompts=f"{OFFPOLICY_DIR}/guided_prompts.jsonl",
    log:
        "logs/base{base}/grid/offpolicy_contexts_{coverage}.log",
    benchmark:
        f"{BENCHMARKS}/offpolicy_contexts/base{{base}}_{{coverage}}.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("offpolicy_contexts"),
        code=stage_code("offpolicy_contexts"),
        settings=settings(),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"


rule offpolicy_guided:
    """The model's samples as teacher under c = s; the correct ones are D_sg."""
    input:
        model=BASE_MODEL,
        prompts=rules.offpolicy_contexts.output.prompts,
    output:
        samples=f"{OFFPOLICY_DIR}/guided.samples.jsonl",
        metrics=f"{OFFPOLICY_DIR}/guided.json",
    log:
        "logs/base{base}/grid/offpolicy_guided_{coverage}.log",
    benchmark:
        f"{BENCHMARKS}/offpolicy_guided/base{{base}}_{{coverage}}.tsv"
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=stage("sample", "offpolicy_guided"),
        code=stage_code("sample"),
        settings=settings(offpolicy_sampling),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule train_sft:
    """SFT of the base model on D_ug or D_sg; one checkpoint per dataset."""
    input:
        unpack(sft_data),
        model=BASE_MODEL,
    output:
        model=directory(f"{CELL}/model"),
        manifest=f"{CELL}/manifest.json",
    log:
        "logs/base{base}/grid/train_{method}_{coverage}_seed{seed}.log",
    benchmark:
        f"{BENCHMARKS}/train_sft/base{{base}}_{{method}}_{{coverage}}_seed{{seed}}.tsv"
    wildcard_constraints:
        method="|".join(SFT_METHODS),
    conda:
        GPU_ENV
    threads: compute_threads("train_sft")
    resources:
        **compute_resources("train_sft"),
    params:
        cmd=stage("train_sft"),
        code=stage_code("train_sft"),
        settings=settings(sft_settings),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
