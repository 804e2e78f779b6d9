# The run's base models side by side, where the config has more than one (`bases`).


rule bases_summary:
    """Each base model's Section 3 table, testbed properties, job-seconds and verdicts, and the
    pooled verdicts: the study checked against the draw of world and base model."""
    input:
        **{
            f"summary__{b}": rules.base_summary.output.summary.format(base=b)
            for b in BASES
        },
        **{
            f"richness__{b}": rules.richness_table.output.table.format(base=b)
            for b in BASES
        },
        claims=rules.grid_summary.output.claims,
        job_times=rules.job_times.output.table,
    output:
        summary=report(
            f"{RESULTS}/summary/bases.md",
            caption="../report/bases.rst",
            category="Base models",
        ),
    log:
        "logs/bases_summary.log",
    benchmark:
        f"{BENCHMARKS}/bases_summary.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("bases_summary"),
        code=stage_code("bases_summary"),
        settings=settings(
            lambda w: {
                "benchmarks": BENCHMARKS,
                "exclude": ["job_times", "bases_summary"],
            }
        ),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"
