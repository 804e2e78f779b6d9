# The grid's tidy table and figures, from every checkpoint's evaluation and the base model's.


def grid_inputs(wildcards):
    inputs = {"probe": rules.teacher_probe.output.table}
    inputs.update({f"traces__{level}": f"{RESULTS}/section3/traces/{level}.json" for level in RICHNESS})
    for method, coverage, seed in cells():
        cell = CELL.format(method=method, coverage=coverage, seed=seed)
        inputs[f"manifest__{method}__{coverage}__{seed}"] = f"{cell}/manifest.json"
        for checkpoint in checkpoints_of(method):
            for split in GRID_SPLITS:
                inputs[f"eval__{method}__{coverage}__{seed}__{checkpoint}__{split}"] = \
                    f"{cell}/eval/{checkpoint}/{split}.json"
    for coverage in GRID["coverage"]:
        inputs[f"base__{coverage}__seen"] = f"{GRID_DIR}/base/seen_{coverage}.json"
        for split in EVAL_SPLITS:
            inputs[f"base__{coverage}__{split}"] = f"{GRID_DIR}/base/{split}.json"
    return inputs


rule grid_summary:
    """One row per (method, coverage, seed, checkpoint, split), the base model as step 0, and the
    changes from the base pooled over seeds, each with its interval; figures and findings."""
    input:
        unpack(grid_inputs),
    output:
        table=f"{RESULTS}/summary/grid.csv",
        changes=f"{RESULTS}/summary/grid_change.csv",
        claims=f"{RESULTS}/summary/claims.csv",
        training=f"{RESULTS}/summary/grid_training.csv",
        findings=report(f"{RESULTS}/summary/findings.md", caption="../report/findings.rst",
                        category="Distillation grid"),
        curves=report(f"{RESULTS}/figures/grid_curves.png", caption="../report/grid_curves.rst",
                      category="Distillation grid"),
        coverage=report(f"{RESULTS}/figures/grid_coverage.png", caption="../report/grid_coverage.rst",
                        category="Distillation grid"),
        words=report(f"{RESULTS}/figures/grid_words.png", caption="../report/grid_words.rst",
                     category="Distillation grid"),
        intervention=report(f"{RESULTS}/figures/grid_intervention.png", caption="../report/grid_intervention.rst",
                            category="Distillation grid"),
    params:
        cmd=stage("grid_summary"),
        code=stage_code("grid_summary"),
        settings=settings(lambda w: {"world": config["world"]}),
    log:
        "logs/grid/summary.log",
    shell:
        "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
