"""The shipped Snakemake profiles: they parse, and they give the GPU rules what SLURM and the
local scheduler need."""
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, TEST_CONFIG, resources_of, snakemake

from selfdistill.training.compute import GPU_STAGES, RESOURCES
from selfdistill.training.onpolicy import ONPOLICY

COMPUTE = {"compute": {"generate": {"gpus": 1, "mem_mb": 20000}, "train": {"gpus": 2, "runtime": 600}}}


@pytest.fixture
def compute_config(tmp_path):
    path = tmp_path / "compute.yaml"
    path.write_text(yaml.safe_dump(COMPUTE))
    return str(path)


def test_slurm_profile_dry_run(tmp_path, compute_config):
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="the [slurm] extra is not installed")
    run = snakemake(tmp_path, "-n", "--profile", str(ROOT / "profiles/slurm"), "--configfile", str(TEST_CONFIG))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    run = snakemake(tmp_path, "-n", "--profile", str(ROOT / "profiles/slurm"), "--configfile", str(TEST_CONFIG),
                    compute_config)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for line in resources_of(run.stdout, "train_onpolicy"):
        # the cluster's choices from the profile, the model's needs from the compute section
        for item in ("slurm_partition=gpu", "cpus_per_gpu=8", "slurm_account=your_account", "gpu=2", "runtime=600"):
            assert item in line.split(", "), (item, line)
    for line in resources_of(run.stdout, "evaluate_base"):
        assert {"gpu=1", "mem_mb=20000", "runtime=120"} <= set(line.split(", ")), line
    for line in resources_of(run.stdout, "world"):
        assert {"slurm_partition=cpu", "mem_mb=8000", "runtime=120"} <= set(line.split(", ")), line


def test_slurm_profile_names_resources_the_plugin_reads():
    plugin = pytest.importorskip("snakemake_executor_plugin_slurm", reason="the [slurm] extra is not installed")
    source = "\n".join(p.read_text() for p in Path(plugin.__file__).parent.glob("*.py"))
    read = set(re.findall(r"resources\.get\(\s*[\"'](\w+)[\"']", source)) | set(re.findall(r"resources\.(\w+)\b", source))
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    used = set(profile["default-resources"]) | {k for r in profile["set-resources"].values() for k in r}
    used |= set(RESOURCES.values())  # what the compute section sets
    assert used <= read, used - read


def test_slurm_profile_sends_exactly_the_gpu_rules_to_the_gpu_partition(tmp_path):
    run = snakemake(tmp_path, "-n", "-p", "--cores", "1", "--configfile", str(TEST_CONFIG))
    assert run.returncode == 0, run.stderr[-3000:]
    stages = dict(re.findall(r"^rule (\w+):\n(?:.*\n)*?Shell command: .*?-m selfdistill\.stages\.(\w+)", run.stdout,
                             flags=re.M))
    gpu_rules = {rule for rule, stage in stages.items() if stage in GPU_STAGES}
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    # every method's evaluation rule, those of methods the test config leaves out as well
    every_method = {f"evaluate_cell_{m}" for m in ("sft_ug", "sft_sg", *ONPOLICY)}
    assert every_method - gpu_rules and gpu_rules - every_method
    assert set(profile["set-resources"]) == gpu_rules | every_method


def test_local_gpu_profile_caps_jobs_at_the_machines_gpus(tmp_path, compute_config):
    run = snakemake(tmp_path, "-n", "-p", "--profile", str(ROOT / "profiles/local-gpu"), "--configfile",
                    str(TEST_CONFIG), compute_config)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # compute asks for 2 training GPUs; the profile's machine has 1, so each job gets 1
    assert resources_of(run.stdout, "train_onpolicy") and all(
        "gpu=1" in line for line in resources_of(run.stdout, "train_onpolicy"))
    assert "python -m selfdistill.training.gpus 1 -- python -m selfdistill.stages.train_onpolicy" in run.stdout


@pytest.mark.parametrize("profile", ["default", "local-gpu", "slurm"])
def test_every_profile_shows_a_failed_jobs_log(profile):
    assert yaml.safe_load((ROOT / "profiles" / profile / "config.yaml").read_text())["show-failed-logs"] is True


def test_the_default_profile_applies_without_being_named(tmp_path):
    # a failing job's log reaches the screen though no profile was given
    (tmp_path / "Snakefile").write_text('rule fail:\n    log: "fail.log"\n    shell: "echo the-log-says-why > {log}; false"\n')
    (tmp_path / "profiles").symlink_to(ROOT / "profiles")
    run = snakemake(tmp_path, "--cores", "1", snakefile=tmp_path / "Snakefile")
    assert run.returncode != 0 and "the-log-says-why" in run.stdout + run.stderr
