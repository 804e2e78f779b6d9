if config["world"] == "arith":

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

else:
    from selfdistill.math_world import sources
    from selfdistill.mathdata import is_remote

    # Local files are inputs, so Snakemake tracks them and provenance hashes them; a relative
    # path starts at the repository root, whatever the working directory. Downloads happen in
    # the job, so the DAG is known offline.
    MATH_LOCAL = {name: os.path.join(workflow.basedir, s["source"])
                  for name, s in sources(config["math"]).items() if not is_remote(s["source"])}

    rule world:
        """The math world's problem splits and fixed coverage sets, from the configured sources."""
        input:
            **MATH_LOCAL,
        output:
            train=f"{RESULTS}/world/train.jsonl",
            in_domain=f"{RESULTS}/world/in_domain.jsonl",
            ood=f"{RESULTS}/world/ood.jsonl",
            **{f"coverage_{label}": f"{RESULTS}/world/coverage/{label}.jsonl"
               for label in config["math"]["coverage_files"]},
        params:
            cmd=stage("math_world"),
            code=stage_code("math_world"),
            settings=settings(lambda w: config["math"]),
        log:
            "logs/world.log",
        shell:
            "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
