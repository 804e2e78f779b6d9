rule evaluate_base:
    """Base model on held-out in-domain and OOD problems, with normal decoding and with the ten
    epistemic words banned."""
    input:
        model=BASE_MODEL,
        prompts=lambda w: WORLD[w.split],
    output:
        samples=f"{BASE_DIR}/eval/base/{{split}}/{{decoding}}.samples.jsonl",
        metrics=f"{BASE_DIR}/eval/base/{{split}}/{{decoding}}.json",
    log:
        "logs/base{base}/evaluate_base/{split}_{decoding}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate_base/base{{base}}_{{split}}_{{decoding}}.tsv"
    wildcard_constraints:
        split="|".join(EVAL_SPLITS),
        decoding="normal|banned",
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=stage("sample", "evaluate_base"),
        code=stage_code("sample"),
        settings=settings(eval_settings),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule base_summary:
    input:
        **{
            f"{s}_{d}": f"{BASE_DIR}/eval/base/{s}/{d}.json"
            for s in EVAL_SPLITS
            for d in ("normal", "banned")
        },
    output:
        summary=f"{SUMMARY}/base_model.json",
        figure=report(
            f"{FIGURES}/base_model.png",
            caption="../report/base_model.rst",
            category="Base model",
            subcategory="base {base}",
        ),
    log:
        "logs/base{base}/base_summary.log",
    benchmark:
        f"{BENCHMARKS}/base_summary/base{{base}}.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("base_summary"),
        code=stage_code("base_summary"),
        settings=settings(lambda w: {"splits": list(EVAL_SPLITS)}),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"
