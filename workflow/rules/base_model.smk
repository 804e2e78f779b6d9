if MODEL["name"] == "built_in":

    rule base_model:
        """Tokenizer and tiny decoder pretrained from scratch; a normal Hugging Face checkpoint."""
        input:
            corpus=CORPUS,
        output:
            model=directory(BASE_MODEL),
        log:
            "logs/base{base}/base_model.log",
        benchmark:
            f"{BENCHMARKS}/base_model/base{{base}}.tsv"
        conda:
            GPU_ENV
        threads: ALL_CORES
        resources:
            **compute_resources("base_model"),
        params:
            cmd=stage("base_model"),
            code=stage_code("base_model"),
            settings=settings(lambda w: of_base(w)["base_model"]),
        shell:
            "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"

else:
    # A local folder is an input, tracked like data (a relative path starts at the repository
    # root); a hub id or package:<module> is resolved in the job, so the DAG is known offline.
    LOCAL_MODEL = os.path.join(workflow.basedir, MODEL["name"])

    rule fetch_model:
        """A pretrained model saved as a normal checkpoint (weights, tokenizer, chat template)."""
        input:
            **({"source": LOCAL_MODEL} if os.path.isdir(LOCAL_MODEL) else {}),
        output:
            model=directory(BASE_MODEL),
        log:
            "logs/fetch_model.log",
        benchmark:
            f"{BENCHMARKS}/fetch_model.tsv"
        localrule: True
        conda:
            GPU_ENV
        threads: ALL_CORES
        params:
            cmd=stage("fetch_model"),
            code=stage_code("fetch_model"),
            # the thinking switch is for rendering prompts, not for the saved model
            settings=settings(
                lambda w: {k: v for k, v in MODEL.items() if k != "enable_thinking"}
            ),
        shell:
            "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
