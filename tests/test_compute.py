"""The compute section: rule resources, how each job starts, and the shipped accelerate configs."""
import re

import pytest
import yaml
from accelerate.commands.config.config_args import load_config_from_file
from conftest import ROOT, TEST_CONFIG, snakemake

from selfdistill.training.compute import CPU_CONFIG, launcher, rule_resources

FSDP = "config/accelerate/fsdp.yaml"
COMPUTE = {"generate": {"gpus": 1, "mem_mb": 20000, "runtime": 30},
           "train": {"gpus": 2, "accelerate_config": FSDP, "runtime": 600, "slurm_extra": "--constraint=h100"}}


def test_rule_resources_are_what_the_group_sets():
    assert rule_resources(COMPUTE, "sample") == {"gpu": 1, "mem_mb": 20000, "runtime": 30}
    assert rule_resources(COMPUTE, "train_onpolicy") == {"gpu": 2, "runtime": 600, "slurm_extra": "--constraint=h100"}
    assert rule_resources(COMPUTE, "base_model") == {}  # no pretrain group
    assert rule_resources(COMPUTE, "world") == {}  # never a GPU stage
    assert rule_resources({}, "sample") == {}


def test_launchers():
    assert launcher(COMPUTE, "train_sft", 0, str(ROOT)) == "python -m"
    assert launcher(COMPUTE, "sample", 1, str(ROOT)) == "python -m selfdistill.training.gpus 1 -- python -m"
    assert launcher(COMPUTE, "train_sft", 4, str(ROOT)) == (
        f"python -m selfdistill.training.gpus 4 -- accelerate launch --config_file {ROOT / FSDP} --num_processes 4 "
        "--num_machines 1 --main_process_port 0 -m")
    with pytest.raises(FileNotFoundError, match=r"compute.train.accelerate_config: '.*/nowhere.yaml' is not a file"):
        launcher({"train": {"gpus": 2, "accelerate_config": "nowhere.yaml"}}, "train_sft", 2, str(ROOT))


def test_training_processes_on_a_cpu_share_the_job_threads():
    cpu = {"train": {"processes": 2}}
    assert launcher(cpu, "train_sft", 0, str(ROOT), threads=4) == (
        f"CUDA_VISIBLE_DEVICES= accelerate launch --config_file {ROOT / CPU_CONFIG} --num_processes 2 "
        "--num_cpu_threads_per_process 2 --num_machines 1 --main_process_port 0 -m")
    # fewer threads than processes (--cores 1): each process still gets one
    assert "--num_cpu_threads_per_process 1 " in launcher(cpu, "train_onpolicy", 0, str(ROOT), threads=1)
    assert launcher(cpu, "sample", 0, str(ROOT)) == "python -m"  # only training jobs have processes
    assert launcher({"train": {"processes": 1}}, "train_sft", 0, str(ROOT), threads=4) == "python -m"


def test_the_cpu_config_makes_accelerate_start_every_process_in_float32():
    config = load_config_from_file(str(ROOT / CPU_CONFIG))
    # with MULTI_CPU accelerate launch would start one process and leave the others to mpirun
    assert config.distributed_type.value == "MULTI_GPU" and config.num_machines == 1
    assert config.mixed_precision == "no"  # as a one-process job trains


@pytest.mark.parametrize("name,kind", [("fsdp.yaml", "FSDP"), ("zero3.yaml", "DEEPSPEED")])
def test_shipped_accelerate_configs_save_whole_weights(name, kind):
    config = load_config_from_file(str(ROOT / "config/accelerate" / name))
    assert config.distributed_type.value == kind and config.num_machines == 1
    # publish() and the evaluations load model.safetensors from checkpoints and the final model
    if kind == "FSDP":
        assert config.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    else:
        assert config.deepspeed_config["zero_stage"] == 3 and config.deepspeed_config["zero3_save_16bit_model"]


def jobs(stdout: str) -> dict[str, list[tuple[str, str]]]:
    """{rule: [(resources line, shell command)]} of a dry run with --printshellcmds."""
    found = {}
    for block in stdout.split("\nrule ")[1:]:
        rule = block.split(":", 1)[0]
        resources = re.search(r"^\s+resources: (.*)$", block, flags=re.M).group(1)
        command = re.search(r"^Shell command: (.*)$", block, flags=re.M).group(1)
        found.setdefault(rule, []).append((resources, command))
    return found


def test_dry_run_declares_gpus_and_launches_on_them(tmp_path):
    (tmp_path / "compute.yaml").write_text(yaml.safe_dump({"compute": COMPUTE}))
    run = snakemake(tmp_path, "-n", "-p", "--cores", "2", "--configfile", str(TEST_CONFIG), str(tmp_path / "compute.yaml"),
                    "--set-resources", "train_sft:gpu=4")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    found = jobs(run.stdout)
    for resources, command in found["train_onpolicy"]:
        assert "gpu=2" in resources and "runtime=600" in resources
        # the checkout's package first on the path, whatever environment the job runs in
        assert command.startswith("OMP_NUM_THREADS=1 TRL_EXPERIMENTAL_SILENCE=1 "
                                  f"PYTHONPATH={ROOT / 'workflow'}${{PYTHONPATH:+:$PYTHONPATH}} "
                                  "python -m selfdistill.training.gpus 2 -- "
                                  f"accelerate launch --config_file {ROOT / FSDP} --num_processes 2 ")
        assert "-m selfdistill.stages.train_onpolicy --rule train_onpolicy --cell" in command
    for resources, command in found["train_sft"]:  # --set-resources wins, and the launcher follows it
        assert "gpu=4" in resources and "--num_processes 4 " in command and "selfdistill.training.gpus 4 --" in command
    evaluations = [rule for rule in found if rule.startswith("evaluate_cell_")]
    assert evaluations
    for rule in ("evaluate_base", *evaluations, "teacher_traces", "select_problems", "contexts"):
        for resources, command in found[rule]:
            assert "gpu=1" in resources and "mem_mb=20000" in resources, rule
            assert "python -m selfdistill.training.gpus 1 -- python -m selfdistill.stages." in command, rule
    for rule in ("world", "base_model", "coverage", "grid_summary"):
        for resources, command in found[rule]:
            assert "gpu=" not in resources and "selfdistill.training.gpus" not in command, rule


def test_dry_run_gives_training_jobs_a_thread_per_process(tmp_path):
    (tmp_path / "compute.yaml").write_text(yaml.safe_dump({"compute": {"train": {"processes": 2}}}))
    run = snakemake(tmp_path, "-n", "-p", "--cores", "4", "--configfile", str(TEST_CONFIG), str(tmp_path / "compute.yaml"),
                    "--set-threads", "train_sft=4")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    threads = {block.split(":", 1)[0]: re.search(r"^\s+threads: (\d+)$", block, flags=re.M)
               for block in run.stdout.split("\nrule ")[1:]}
    assert (threads["train_onpolicy"].group(1), threads["train_sft"].group(1)) == ("2", "4")
    found = jobs(run.stdout)
    for rule, each in (("train_onpolicy", 1), ("train_sft", 2)):
        for _, command in found[rule]:
            assert "CUDA_VISIBLE_DEVICES= accelerate launch" in command and "selfdistill.training.gpus" not in command
            assert f"--num_processes 2 --num_cpu_threads_per_process {each} " in command, command
    for rule in ("evaluate_base", "teacher_traces", "base_model"):
        for _, command in found[rule]:
            assert "accelerate" not in command, rule
