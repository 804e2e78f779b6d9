# Each grid cell's checkpoints on seen (its coverage set), unseen in-domain and OOD problems, in
# one job per cell: the process loads its libraries once, then each checkpoint in turn. A rule per
# method, because the checkpoints (its outputs) depend on the method's training settings.

for method in GRID["methods"]:

    rule:
        name:
            f"evaluate_cell_{method}"
        input:
            **cell_models(method),
            prompts_seen=rules.coverage.output.seen,
            prompts_in_domain=WORLD["in_domain"],
            prompts_ood=WORLD["ood"],
        output:
            **cell_eval_outputs(method),
        log:
            "logs/base{base}/grid/eval_{method}_{coverage}_seed{seed}.log",
        benchmark:
            f"{BENCHMARKS}/evaluate_cell_{method}/base{{base}}_{{method}}_{{coverage}}_seed{{seed}}.tsv"
        wildcard_constraints:
            method=re.escape(method),
        conda:
            GPU_ENV
        threads: 1
        resources:
            **compute_resources("sample"),
        params:
            cmd=cell_eval_command,
            code=stage_code("sample"),
            settings=settings(eval_settings_grid),
        shell:
            "OMP_NUM_THREADS={threads} {params.cmd} --params {params.settings:q} > {log} 2>&1"
