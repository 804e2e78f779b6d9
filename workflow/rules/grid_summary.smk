# The grid's tidy table and figures, from every checkpoint's evaluation and the base model's.


rule grid_summary:
    """One row per (method, coverage, seed, checkpoint, split), the base model as step 0, and the
    changes from the base pooled over seeds, each with its interval; figures and findings.
    """
    input:
        unpack(grid_inputs),
    output:
        table=f"{RESULTS}/summary/grid.csv",
        changes=f"{RESULTS}/summary/grid_change.csv",
        claims=f"{RESULTS}/summary/claims.csv",
        # the report's front page shows this table (report/workflow.rst)
        verdicts=report(
            f"{RESULTS}/summary/verdicts.csv",
            caption="../report/verdicts.rst",
            category="Distillation grid",
        ),
        training=f"{RESULTS}/summary/grid_training.csv",
        findings=report(
            f"{RESULTS}/summary/findings.md",
            caption="../report/findings.rst",
            category="Distillation grid",
        ),
        curves=report(
            f"{RESULTS}/figures/grid_curves.png",
            caption="../report/grid_curves.rst",
            category="Distillation grid",
        ),
        coverage=report(
            f"{RESULTS}/figures/grid_coverage.png",
            caption="../report/grid_coverage.rst",
            category="Distillation grid",
        ),
        words=report(
            f"{RESULTS}/figures/grid_words.png",
            caption="../report/grid_words.rst",
            category="Distillation grid",
        ),
        intervention=report(
            f"{RESULTS}/figures/grid_intervention.png",
            caption="../report/grid_intervention.rst",
            category="Distillation grid",
        ),
    log:
        "logs/grid/summary.log",
    benchmark:
        f"{BENCHMARKS}/grid_summary.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("grid_summary"),
        code=stage_code("grid_summary"),
        settings=settings(lambda w: {"world": config["world"]}),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"
