# The run's own cost: time and memory per rule from every job's benchmark file.


rule job_times:
    """Job seconds and peak memory per rule, after every job the summaries need."""
    input:
        **{
            f"{name}_{b}": path.format(base=b)
            for b in BASES
            for name, path in (
                ("base", rules.base_summary.output.summary),
                ("richness", rules.richness_table.output.table),
            )
        },
        grid=rules.grid_summary.output.table,
    output:
        table=f"{RESULTS}/summary/job_times.csv",
        figure=report(
            f"{RESULTS}/figures/job_times.png",
            caption="../report/job_times.rst",
            category="Run",
        ),
    log:
        "logs/job_times.log",
    benchmark:
        f"{BENCHMARKS}/job_times.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("job_times"),
        code=stage_code("job_times"),
        settings=settings(
            lambda w: {
                "benchmarks": BENCHMARKS,
                "exclude": ["job_times", "bases_summary"],
            }
        ),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"
