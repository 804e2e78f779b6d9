rule select_problems:
    """Training problems the base model solves at a middling rate, each with a correct sample s."""
    input:
        model=BASE_MODEL,
        problems=WORLD["train"],
    output:
        selected=f"{BASE_DIR}/section3/problems.jsonl",
    log:
        "logs/base{base}/section3/select_problems.log",
    benchmark:
        f"{BENCHMARKS}/select_problems/base{{base}}.tsv"
    # on the path to every Section 3 job: start it before the base model's evaluations, beside them
    priority: 1
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("select_problems"),
    params:
        cmd=stage("select_problems"),
        code=stage_code("select_problems"),
        settings=settings(
            section3_settings(
                "candidates",
                "samples",
                "pass_rate",
                "max_problems",
                "seed",
                "batch_size",
                "sampling",
            )
        ),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule contexts:
    """The teacher's prompt at each richness level; regen is sampled from the model under c = s."""
    input:
        model=BASE_MODEL,
        selected=rules.select_problems.output.selected,
    output:
        **{level: f"{BASE_DIR}/section3/contexts/{level}.jsonl" for level in RICHNESS},
    log:
        "logs/base{base}/section3/contexts.log",
    benchmark:
        f"{BENCHMARKS}/contexts/base{{base}}.tsv"
    priority: 1
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("contexts"),
    params:
        cmd=stage("contexts"),
        code=stage_code("contexts"),
        settings=settings(
            section3_settings("regen_tries", "seed", "batch_size", "sampling")
        ),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule teacher_traces:
    """Teacher samples at one richness level, graded and counted."""
    input:
        model=BASE_MODEL,
        prompts=f"{BASE_DIR}/section3/contexts/{{richness}}.jsonl",
    output:
        samples=f"{BASE_DIR}/section3/traces/{{richness}}.samples.jsonl",
        metrics=f"{BASE_DIR}/section3/traces/{{richness}}.json",
    log:
        "logs/base{base}/section3/traces_{richness}.log",
    benchmark:
        f"{BENCHMARKS}/teacher_traces/base{{base}}_{{richness}}.tsv"
    wildcard_constraints:
        richness="|".join(RICHNESS),
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("sample"),
    params:
        cmd=stage("sample", "teacher_traces"),
        code=stage_code("sample"),
        settings=settings(trace_settings),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"


rule richness_table:
    """The Table 1 analog: score, length and epistemic count per richness level."""
    input:
        **{level: f"{BASE_DIR}/section3/traces/{level}.json" for level in RICHNESS},
    output:
        table=f"{SUMMARY}/richness.csv",
        figure=report(
            f"{FIGURES}/richness.png",
            caption="../report/richness.rst",
            category="Section 3",
            subcategory="base {base}",
        ),
    log:
        "logs/base{base}/section3/richness_table.log",
    benchmark:
        f"{BENCHMARKS}/richness_table/base{{base}}.tsv"
    localrule: True
    conda:
        ANALYSIS_ENV
    params:
        cmd=stage("richness_table"),
        code=stage_code("richness_table"),
        settings=settings(),
    shell:
        "{params.cmd} --params {params.settings:q} > {log} 2>&1"


rule teacher_probe:
    """The teacher's probability of the student's epistemic words at each richness level: what
    self-distillation would push on."""
    input:
        **{level: f"{BASE_DIR}/section3/contexts/{level}.jsonl" for level in RICHNESS},
        model=BASE_MODEL,
        student=f"{BASE_DIR}/section3/traces/none.samples.jsonl",
    output:
        table=f"{SUMMARY}/teacher_probe.csv",
    log:
        "logs/base{base}/section3/teacher_probe.log",
    benchmark:
        f"{BENCHMARKS}/teacher_probe/base{{base}}.tsv"
    conda:
        GPU_ENV
    threads: 1
    resources:
        **compute_resources("teacher_probe"),
    params:
        cmd=stage("teacher_probe"),
        code=stage_code("teacher_probe"),
        settings=settings(probe_settings),
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
