# The distillation grid (Sections 4-6): method x task coverage x seed, each cell trained from the
# base model and evaluated at every checkpoint on seen, unseen in-domain and OOD problems.


include: "grid_common.smk"


rule coverage:
    """One task-coverage training set (nested in the larger ones) and its distinct problems."""
    input:
        unpack(coverage_source),
    output:
        rows=f"{GRID_DIR}/coverage/{{coverage}}.jsonl",
        seen=f"{GRID_DIR}/coverage/{{coverage}}.seen.jsonl",
    log:
        "logs/base{base}/grid/coverage_{coverage}.log",
    benchmark:
        f"{BENCHMARKS}/coverage/base{{base}}_{{coverage}}.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("coverage"),
        code=stage_code("coverage"),
        settings=settings(coverage_settings),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"


rule evaluate_base_grid:
    """The base model under the grid's evaluation settings: every curve's step 0, on unseen
    in-domain and OOD problems once, and on each coverage level's training problems (seen_<level>).
    """
    input:
        model=BASE_MODEL,
        prompts=base_grid_prompts,
    output:
        samples=f"{GRID_DIR}/base/{{split}}.samples.jsonl",
        metrics=f"{GRID_DIR}/base/{{split}}.json",
    log:
        "logs/base{base}/grid/base_{split}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_base_grid/base{{base}}_{{split}}.tsv"
    wildcard_constraints:
        split=r"in_domain|ood|seen_[^/]+",
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=stage("sample", "evaluate_base_grid"),
        code=stage_code("sample"),
        settings=settings(eval_settings_grid),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


include: "grid_offpolicy.smk"
include: "grid_onpolicy.smk"
include: "grid_evaluate.smk"
include: "grid_summary.smk"
