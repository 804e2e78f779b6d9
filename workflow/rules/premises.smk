rule premises:
    """The world's premises on its base model: errors under greedy decoding, SFT on confident
    traces against unseen facts, the recount, and a forced doubt's worth."""
    input:
        model=BASE_MODEL,
        train=WORLD["train"],
        ood=WORLD["ood"],
        ood_samples=f"{BASE_DIR}/eval/base/ood/normal.samples.jsonl",
    output:
        table=report(
            f"{SUMMARY}/premises.csv",
            caption="../report/premises.rst",
            category="Base model",
            subcategory="base {base}",
        ),
    log:
        "logs/base{base}/premises.log",
    benchmark:
        f"{BENCHMARKS}/premises/base{{base}}.tsv"
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("premises"),
    params:
        cmd=stage("premises"),
        code=stage_code("premises"),
        settings=settings(premise_settings),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
