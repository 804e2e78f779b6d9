# Off-policy self-distillation (Section 4): sample D_ug and D_sg once per coverage level, then SFT.
OFFPOLICY_DIR = f"{GRID_DIR}/offpolicy/{{coverage}}"
OFFPOLICY_PROTOCOL = GRID["offpolicy"].get("protocol", "coverage")


def offpolicy_protocol():
    """The protocol reaches the job's params only where set, so the default's jobs keep theirs."""
    return {"protocol": OFFPOLICY_PROTOCOL} if "protocol" in GRID["offpolicy"] else {}


def offpolicy_sampling(wildcards):
    o = GRID["offpolicy"]
    return {"world": config["world"], "backend": config["backend"], "batch_size": o["batch_size"],
            "sampling": o["sampling"], **chat_settings()}


rule offpolicy_unguided:
    """The base model's unguided samples on a coverage set; the correct ones are D_ug."""
    input:
        model=BASE_MODEL,
        prompts=rules.coverage.output.rows,
    output:
        samples=f"{OFFPOLICY_DIR}/unguided.samples.jsonl",
        metrics=f"{OFFPOLICY_DIR}/unguided.json",
    params:
        cmd=stage("sample"),
        code=stage_code("sample"),
        settings=settings(offpolicy_sampling),
    resources:
        **compute_resources("sample"),
    threads: 1
    log:
        "logs/grid/offpolicy_unguided_{coverage}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


rule offpolicy_contexts:
    """Teacher prompts showing a correct unguided sample as the solution (c = s)."""
    input:
        coverage=rules.coverage.output.rows,
        unguided=rules.offpolicy_unguided.output.samples,
    output:
        prompts=f"{OFFPOLICY_DIR}/guided_prompts.jsonl",
    params:
        cmd=stage("offpolicy_contexts"),
        code=stage_code("offpolicy_contexts"),
        settings=settings(),
    log:
        "logs/grid/offpolicy_contexts_{coverage}.log",
    shell:
        "{params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


rule offpolicy_guided:
    """The model's samples as teacher under c = s; the correct ones are D_sg."""
    input:
        model=BASE_MODEL,
        prompts=rules.offpolicy_contexts.output.prompts,
    output:
        samples=f"{OFFPOLICY_DIR}/guided.samples.jsonl",
        metrics=f"{OFFPOLICY_DIR}/guided.json",
    params:
        cmd=stage("sample"),
        code=stage_code("sample"),
        settings=settings(offpolicy_sampling),
    resources:
        **compute_resources("sample"),
    threads: 1
    log:
        "logs/grid/offpolicy_guided_{coverage}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"


def sft_data(wildcards):
    """Section 3's problems and c = s teacher traces (the study's protocol), or the coverage set
    and its off-policy samples."""
    if OFFPOLICY_PROTOCOL == "section3":
        return {"problems": rules.select_problems.output.selected,
                "guided": expand(rules.teacher_traces.output.samples, richness="s")[0]}
    return {name: expand(path, coverage=wildcards.coverage)[0] for name, path in (
        ("coverage", rules.coverage.output.rows), ("unguided", rules.offpolicy_unguided.output.samples),
        ("guided", rules.offpolicy_guided.output.samples))}


rule train_sft:
    """SFT of the base model on D_ug or D_sg; one checkpoint per dataset."""
    input:
        unpack(sft_data),
        model=BASE_MODEL,
    output:
        model=directory(f"{CELL}/model"),
        manifest=f"{CELL}/manifest.json",
    wildcard_constraints:
        method="|".join(SFT_METHODS),
    params:
        cmd=stage("train_sft"),
        code=stage_code("train_sft"),
        settings=settings(lambda w: {"method": w.method, "seed": int(w.seed), "train": GRID["train"][w.method],
                                     **chat_settings(), **offpolicy_protocol()}),
    resources:
        **compute_resources("train_sft"),
    threads: 1
    log:
        "logs/grid/train_{method}_{coverage}_seed{seed}.log",
    shell:
        "OMP_NUM_THREADS={threads} {params.cmd} --rule {rule} --params {params.settings:q} > {log} 2>&1"
