"""Where jobs run: the rule resources and the launch command of the stages that can use GPUs,
from the config's `compute` section (documented in the schema)."""
from __future__ import annotations

import shlex
from pathlib import Path

# the compute group of each stage that can use a GPU; every other stage is a plain CPU process
GPU_STAGES = {"base_model": "pretrain", "sample": "generate", "select_problems": "generate",
              "contexts": "generate", "teacher_probe": "generate", "train_sft": "train", "train_onpolicy": "train"}
# compute-group key -> the rule resource it sets, named as Snakemake's local scheduler and the
# SLURM executor plugin read them
RESOURCES = {"gpus": "gpu", "mem_mb": "mem_mb", "runtime": "runtime", "slurm_extra": "slurm_extra"}
# the accelerate config of a training job's processes on a CPU (compute.train.processes)
CPU_CONFIG = "config/accelerate/cpu.yaml"


def _group(compute: dict, stage: str) -> dict:
    return compute.get(GPU_STAGES.get(stage), {})


def rule_resources(compute: dict, stage: str) -> dict:
    """Resources of a rule running `stage`: only what its group sets, so a profile's
    default-resources fill in the rest."""
    return {RESOURCES[k]: v for k, v in _group(compute, stage).items() if k in RESOURCES}


def processes(compute: dict, stage: str) -> int:
    """Training processes of a job of `stage` that has no GPU (compute.train.processes)."""
    return _group(compute, stage).get("processes", 1)


def launcher(compute: dict, stage: str, gpus: int, workflow_dir: str, threads: int = 1) -> str:
    """What runs `-m selfdistill.stages.<stage>` on `gpus` GPUs (the job's gpu resource, after any
    --set-resources) and `threads` cores: `python -m` on none; with GPUs, after claiming them
    (selfdistill.training.gpus); for a stage whose group names an accelerate config,
    `accelerate launch` with one process per GPU; without GPUs, where the group asks for several
    processes, `accelerate launch` of that many on the CPU, sharing the job's threads."""
    if not gpus:
        n = processes(compute, stage)
        if n == 1:
            return "python -m"
        config = shlex.quote(str(Path(workflow_dir, CPU_CONFIG)))
        # GPUs hidden: each process trains on the CPU and they talk over gloo, rather than all
        # of them landing on one GPU that torch finds
        return (f"CUDA_VISIBLE_DEVICES= accelerate launch --config_file {config} --num_processes {n} "
                f"--num_cpu_threads_per_process {max(1, threads // n)} "
                "--num_machines 1 --main_process_port 0 -m")
    claim = f"python -m selfdistill.training.gpus {gpus} -- "
    config = _group(compute, stage).get("accelerate_config")
    if config is None:
        return claim + "python -m"
    path = Path(workflow_dir, config)  # a relative path is the workflow's; an absolute one stays
    if not path.is_file():
        raise FileNotFoundError(f"config key compute.{GPU_STAGES[stage]}.accelerate_config: {str(path)!r} is not "
                                "a file; shipped: config/accelerate/fsdp.yaml, config/accelerate/zero3.yaml")
    # port 0: a free rendezvous port, since several training jobs may share a node
    return (claim + f"accelerate launch --config_file {shlex.quote(str(path))} --num_processes {gpus} "
            "--num_machines 1 --main_process_port 0 -m")
