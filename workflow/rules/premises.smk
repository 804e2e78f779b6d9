from selfdistill.data.coverage import LEVELS


def premise_settings(wildcards):
    cfg = of_base(wildcards)
    a, sft = cfg["arith"], cfg["grid"]["train"]["sft_sg"]
    return {
        "errors": a["errors"],
        "error_model": a[a["errors"]],
        # D_sg holds one trace per distinct problem of the largest coverage level
        "d_sg": max(LEVELS[c][0] or a["train_size"] for c in cfg["grid"]["coverage"]),
        # the grid's SFT as train_sft runs it
        "sft": {
            **{
                k: sft[k]
                for k in (
                    "learning_rate",
                    "epochs",
                    "batch_size",
                    "warmup_ratio",
                    "max_length",
                )
            },
            "lr_scheduler": "constant_with_warmup",
        },
        "sampling": cfg["evaluation"]["sampling"],
        "batch_size": cfg["evaluation"]["batch_size"],
        "seed": cfg["base_model"]["train"]["seed"],
    }


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
