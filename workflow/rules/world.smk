if config["world"] == "arith":

    rule world:
        """One problem split of the arithmetic world, from its own settings alone."""
        output:
            problems=f"{WORLD_DIR}/{{split}}.jsonl",
        log:
            "logs/base{base}/world_{split}.log",
        benchmark:
            f"{BENCHMARKS}/world/base{{base}}_{{split}}.tsv"
        wildcard_constraints:
            split="|".join(SPLITS),
        localrule: True
        conda:
            ANALYSIS_ENV
        params:
            cmd=stage("world"),
            code=stage_code("world"),
            settings=settings(arith_split_settings),
        shell:
            "{params.cmd} --params {params.settings:q} > {log} 2>&1"

    rule corpus:
        """The base model's pretraining corpus."""
        output:
            corpus=CORPUS,
        log:
            "logs/base{base}/corpus.log",
        benchmark:
            f"{BENCHMARKS}/corpus/base{{base}}.tsv"
        localrule: True
        conda:
            ANALYSIS_ENV
        params:
            cmd=stage("corpus"),
            code=stage_code("corpus"),
            settings=settings(arith_corpus_settings),
        shell:
            "{params.cmd} --params {params.settings:q} > {log} 2>&1"

else:
    from selfdistill.data.math_world import sources
    from selfdistill.data.mathdata import is_remote

    # Local files are inputs, so Snakemake tracks them and provenance hashes them; a relative
    # path starts at the repository root, whatever the working directory. Downloads happen in
    # the job, so the DAG is known offline.
    MATH_LOCAL = {
        name: os.path.join(workflow.basedir, s["source"])
        for name, s in sources(config["math"]).items()
        if not is_remote(s["source"])
    }

    rule world:
        """The math world's problem splits and fixed coverage sets, from the configured sources."""
        input:
            **MATH_LOCAL,
        output:
            **{
                f"coverage_{label}": f"{WORLD_DIR}/coverage/{label}.jsonl"
                for label in config["math"]["coverage_files"]
            },
            **WORLD,
        log:
            "logs/world.log",
        benchmark:
            f"{BENCHMARKS}/world.tsv"
        localrule: True
        conda:
            ANALYSIS_ENV
        params:
            cmd=stage("math_world", "world"),
            code=stage_code("math_world"),
            settings=settings(lambda w: config["math"]),
        shell:
            "{params.cmd} --params {params.settings:q} > {log} 2>&1"
