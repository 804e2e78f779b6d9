from selfdistill.templates import RICHNESS


def section3_settings(*keys):
    def settings(wildcards):
        s3 = config["section3"]
        return {"world": config["world"], "backend": config["backend"], **{k: s3[k] for k in keys},
                **chat_settings()}

    return settings


rule select_problems:
    """Training problems the base model solves at a middling rate, each with a correct sample s."""
    input:
        model=BASE_MODEL,
        problems=rules.world.output.train,
    output:
        selected=f"{RESULTS}/section3/problems.jsonl",
    params:
        cmd=stage("select_problems"),
        code=stage_code("select_problems"),
        settings=settings(section3_settings(
            "candidates", "samples", "pass_rate", "max_problems", "seed", "batch_size", "sampling")),
    resources:
        **compute_resources("select_problems"),
    # on the path to every Section 3 job: start it before the base model's evaluations, beside them
    priority: 1
    threads: 1
    log:
        "logs/section3/select_problems.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


rule contexts:
    """The teacher's prompt at each richness level; regen is sampled from the model under c = s."""
    input:
        model=BASE_MODEL,
        selected=rules.select_problems.output.selected,
    output:
        **{level: f"{RESULTS}/section3/contexts/{level}.jsonl" for level in RICHNESS},
    params:
        cmd=stage("contexts"),
        code=stage_code("contexts"),
        settings=settings(section3_settings("regen_tries", "seed", "batch_size", "sampling")),
    resources:
        **compute_resources("contexts"),
    priority: 1
    threads: 1
    log:
        "logs/section3/contexts.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


def trace_settings(wildcards):
    s3 = config["section3"]
    sampling = {**s3["sampling"], "n": s3["traces_per_problem"], "seed": s3["seed"]}
    return {"world": config["world"], "backend": config["backend"], "batch_size": s3["batch_size"],
            "sampling": sampling, **chat_settings()}


rule teacher_traces:
    """Teacher samples at one richness level, graded and counted."""
    input:
        model=BASE_MODEL,
        prompts=f"{RESULTS}/section3/contexts/{{richness}}.jsonl",
    output:
        samples=f"{RESULTS}/section3/traces/{{richness}}.samples.jsonl",
        metrics=f"{RESULTS}/section3/traces/{{richness}}.json",
    wildcard_constraints:
        richness="|".join(RICHNESS),
    params:
        cmd=stage("sample"),
        code=stage_code("sample"),
        settings=settings(trace_settings),
    resources:
        **compute_resources("sample"),
    threads: 1
    log:
        "logs/section3/traces_{richness}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


rule richness_table:
    """The Table 1 analog: score, length and epistemic count per richness level."""
    input:
        **{level: f"{RESULTS}/section3/traces/{level}.json" for level in RICHNESS},
    output:
        table=f"{RESULTS}/summary/richness.csv",
        figure=report(f"{RESULTS}/figures/richness.png", caption="../report/richness.rst",
                      category="Section 3"),
    params:
        cmd=stage("richness_table"),
        code=stage_code("richness_table"),
        settings=settings(),
    log:
        "logs/section3/richness_table.log",
    shell:
        "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


rule teacher_probe:
    """The teacher's probability of the student's epistemic words at each richness level: what
    self-distillation would push on."""
    input:
        model=BASE_MODEL,
        student=f"{RESULTS}/section3/traces/none.samples.jsonl",
        **{level: f"{RESULTS}/section3/contexts/{level}.jsonl" for level in RICHNESS},
    output:
        table=f"{RESULTS}/summary/teacher_probe.csv",
    params:
        cmd=stage("teacher_probe"),
        code=stage_code("teacher_probe"),
        settings=settings(lambda w: {"batch_size": config["section3"].get("probe_batch_size",
                                                                          config["section3"]["batch_size"] // 8),
                                     **chat_settings()}),
    resources:
        **compute_resources("teacher_probe"),
    threads: 1
    log:
        "logs/section3/teacher_probe.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
