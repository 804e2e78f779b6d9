rule base_model:
    """Tokenizer and tiny decoder pretrained from scratch; a normal Hugging Face checkpoint."""
    input:
        corpus=rules.world.output.corpus,
    output:
        model=directory(BASE_MODEL),
    params:
        cmd=stage("base_model"),
        code=stage_code("base_model"),
        settings=settings(lambda w: config["base_model"]),
    resources:
        **compute_resources("base_model"),
    threads: workflow.cores
    log:
        "logs/base_model.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
