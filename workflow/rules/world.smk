rule world:
    """The world's problem splits and the base model's pretraining corpus."""
    output:
        train=f"{RESULTS}/world/train.jsonl",
        in_domain=f"{RESULTS}/world/in_domain.jsonl",
        ood=f"{RESULTS}/world/ood.jsonl",
        corpus=f"{RESULTS}/world/pretrain_corpus.jsonl",
    params:
        cmd=stage("world"),
        code=stage_code("world"),
        settings=settings(lambda w: config["arith"]),
    log:
        "logs/world.log",
    shell:
        "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
