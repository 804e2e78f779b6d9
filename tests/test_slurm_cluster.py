"""The SLURM profile on a real one-node cluster (scripts/slurm-local.sh): a lean grid runs with
every non-local job through sbatch to the summaries a local run writes, each job asking SLURM
for its rule's resources; a training job cancelled after its first scratch checkpoint resumes
from it to the uninterrupted weights; a job past its time limit fails with SLURM's reason; a
second run is refused while one is live. The SLURM job ids used are reported at the end."""
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import REPORT, ROOT, TEST_CONFIG, resources_of, snakemake

SCRIPT = ROOT / "scripts" / "slurm-local.sh"
PROFILES = ("--profile", str(ROOT / "profiles/slurm"), "--profile", str(ROOT / "profiles/slurm-local"))
# the test config cut to one method and one coverage level: 17 jobs through sbatch, not 48
LEAN = {"grid": {"methods": ["sdpo_s"], "coverage": ["8x8"]}}
# the base model asks for a GPU, which SLURM allocates on the node's device-file GPU
ONE_GPU = {"compute": {"pretrain": {"gpus": 1, "mem_mb": 1500, "runtime": 20}}}
# enough steps after the first scratch checkpoint (step 4) for the test to cancel the job there;
# completions short enough for the tiny model's 128 positions
RESUMABLE = {"grid": {"train": {"sdpo_s": {"max_steps": 16, "checkpoint_interval": 4, "max_completion_length": 8}}}}
CELL = "results/base0/grid/sdpo_s/8x8/seed0"
SUBMITTED = re.compile(r"SLURM jobid (\d+) \(log: .*?/rule_(\w+)/")
JOBS = REPORT.setdefault("SLURM jobs (scripts/slurm-local.sh cluster)", [])


def record(what: str, run_output: str) -> list[tuple[str, str]]:
    """(SLURM job id, rule) of each job a run submitted, reported under `what`."""
    jobs = SUBMITTED.findall(run_output)
    JOBS.append(f"{what}: " + " ".join(f"{job}:{rule}" for job, rule in jobs))
    return jobs


def slurm_job(job_id: str) -> dict[str, str]:
    """SLURM's record of a job (scontrol keeps it MinJobAge after the job ends)."""
    line = subprocess.run(["scontrol", "show", "job", "-o", job_id], capture_output=True, text=True,
                          check=True).stdout
    return dict(field.split("=", 1) for field in line.split() if "=" in field)


def config_file(tmp_path: Path, name: str, content: dict) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(content))
    return str(path)


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="the [slurm] extra is not installed")
    if os.geteuid() != 0:
        pytest.skip("the local cluster's SLURM daemons run as root, and this is not root")
    running = subprocess.run(["bash", str(SCRIPT), "status"], capture_output=True).returncode == 0
    start = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True, timeout=900)
    if start.returncode == 2:
        pytest.skip(f"no SLURM cluster here: {start.stderr.strip()}")
    assert start.returncode == 0, start.stdout + start.stderr
    yield
    if not running:  # a cluster that was up before is left up
        subprocess.run(["bash", str(SCRIPT), "stop"], check=True)


@pytest.fixture(scope="module")
def time_limited(cluster, tmp_path_factory):
    """A run of a job that outlasts its one-minute limit, started first: it sleeps while the
    other runs compute."""
    workdir = tmp_path_factory.mktemp("time_limit")
    # the log says something, as the stages' logs do: Snakemake stops showing a failed job's logs
    # at the first empty one, before the SLURM log
    (workdir / "Snakefile").write_text(
        'rule outlast:\n    output: "done"\n    log: "outlast.log"\n    resources: runtime=1\n'
        '    shell: "echo sleeping > {log}; sleep 600; touch {output}"\n')
    return subprocess.Popen([sys.executable, "-m", "snakemake", "-d", str(workdir), *PROFILES], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def lean_runs(time_limited, tmp_path_factory):
    """(local workdir, SLURM workdir, SLURM run, configs) of the lean grid, run both ways."""
    configs = tmp_path_factory.mktemp("configs")
    lean = ("--configfile", str(TEST_CONFIG), config_file(configs, "lean", LEAN))
    local, cluster_dir = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("slurm")
    began = time.monotonic()
    run = snakemake(local, "--cores", "2", *lean)
    assert run.returncode == 0, run.stderr[-3000:]
    local_s = time.monotonic() - began
    gpu = (*lean, config_file(configs, "gpu", ONE_GPU))
    began = time.monotonic()
    run = snakemake(cluster_dir, *PROFILES, *gpu)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    JOBS.append(f"lean grid: {time.monotonic() - began:.0f} s through sbatch, {local_s:.0f} s local --cores 2")
    return local, cluster_dir, run, gpu


def test_lean_grid_through_sbatch_matches_a_local_run(lean_runs):
    local, cluster_dir, run, _ = lean_runs
    jobs = record("lean grid", run.stdout + run.stderr)
    remote = re.findall(r"^rule (\w+):$", run.stdout + run.stderr, flags=re.M)
    assert jobs and sorted(rule for _, rule in jobs) == sorted(remote)
    assert re.findall(r"^localrule (\w+):$", run.stdout + run.stderr, flags=re.M)  # the summaries ran here
    # job_times.csv holds each job's seconds; *.prov.json each job's environment
    # (the pooled ones and those of base 0, in a folder of their own)
    summaries = sorted(str(p.relative_to(local / "results/summary")) for p in (local / "results/summary").rglob("*")
                       if p.is_file() and p.name != "job_times.csv" and not p.name.endswith(".prov.json"))
    assert "grid.csv" in summaries and "base0/richness.csv" in summaries
    for name in summaries:
        assert (cluster_dir / "results/summary" / name).read_bytes() == (local / "results/summary" / name).read_bytes(), name
    audit = subprocess.run([sys.executable, "-m", "selfdistill", "audit",
                            *(f"results/summary/{name}" for name in summaries)],
                           cwd=cluster_dir, capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr[-3000:]


def test_each_job_asked_slurm_for_its_rules_resources(lean_runs, tmp_path):
    _, _, run, configs = lean_runs
    planned = snakemake(tmp_path, "-n", *PROFILES, *configs)
    assert planned.returncode == 0, planned.stderr[-3000:]
    gpu_jobs = 0
    for job_id, rule in SUBMITTED.findall(run.stdout + run.stderr):
        (line,) = set(resources_of(planned.stdout, rule))
        want = dict(item.split("=", 1) for item in line.split(", "))
        threads = re.search(rf"^rule {rule}:\n(?:.+\n)*?\s+threads: (\d+)", planned.stdout, flags=re.M)
        gpus = int(want.get("gpu", 0))
        cpus = gpus * int(want["cpus_per_gpu"]) if gpus else int(threads.group(1)) if threads else 1
        job = slurm_job(job_id)
        assert job["Comment"].startswith(f"rule_{rule}") and job["JobState"] == "COMPLETED", job
        assert job["Partition"] == want["slurm_partition"] and job["Account"] == want["slurm_account"], job
        assert int(job["NumCPUs"]) == cpus, (rule, job["NumCPUs"], cpus)
        assert job["MinMemoryNode"] == f"{want['mem_mb']}M", (rule, job["MinMemoryNode"])
        assert job["TimeLimit"] == time.strftime("%H:%M:%S", time.gmtime(int(want["runtime"]) * 60)), rule
        assert (job.get("TresPerJob") == f"gres:gpu:{gpus}") == bool(gpus), (rule, job.get("TresPerJob"))
        gpu_jobs += bool(gpus)
    assert gpu_jobs == 1  # base_model, the one rule the GPU overlay gives a GPU


def test_a_job_past_its_time_limit_fails_with_slurms_reason(time_limited):
    out, _ = time_limited.communicate(timeout=600)
    record("time limit", out)
    assert time_limited.returncode != 0
    assert "TIMEOUT" in out and re.search(r"CANCELLED AT \S+ DUE TO TIME LIMIT", out), out[-3000:]


def resumable_cell(workdir: Path) -> None:
    """The cell's inputs in `workdir`: a tiny model that answers some of its training problems
    right, so every SDPO step has demonstrations and moves the weights."""
    from test_train_resume import make_base

    make_base(workdir, answers_some=True)
    (workdir / "results/base0/grid/coverage").mkdir(parents=True)
    shutil.move(workdir / "base", workdir / "results/base0/base_model")
    shutil.move(workdir / "coverage.jsonl", workdir / "results/base0/grid/coverage/8x8.jsonl")


def test_a_cancelled_training_job_resumes_to_the_uninterrupted_weights(cluster, tmp_path, one_thread):
    import torch
    from safetensors.torch import load_file

    resumable_cell(tmp_path)
    # the target first: --configfile and --allowed-rules take every word after them
    args = (f"{CELL}/manifest.json", *PROFILES, "--configfile", str(TEST_CONFIG),
            config_file(tmp_path, "resumable", RESUMABLE), "--allowed-rules", "train_onpolicy")
    whole = snakemake(tmp_path, *args)
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-3000:]
    record("uninterrupted training", whole.stdout + whole.stderr)
    expected = load_file(tmp_path / CELL / "model/model.safetensors")
    start = load_file(tmp_path / "results/base0/base_model/model.safetensors")
    assert any(not torch.equal(expected[k], start[k]) for k in expected)  # training moved the weights

    first = tmp_path / "results/base0/grid/.scratch/sdpo_s/8x8/seed0/checkpoint-4/trainer_state.json"
    rerun = subprocess.Popen([sys.executable, "-m", "snakemake", "-d", str(tmp_path), "--force", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not first.exists():
        assert rerun.poll() is None and time.monotonic() < deadline, "no scratch checkpoint at step 4"
        time.sleep(0.05)
    (killed,) = [line.split("|")[0] for line in subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i|%k"], capture_output=True, text=True, check=True
    ).stdout.split() if line.split("|")[1].startswith("rule_train_onpolicy")]
    subprocess.run(["scancel", killed], check=True)
    # while the first run waits to retry the job, a second one in the same folder is refused
    second = snakemake(tmp_path, *args)
    assert second.returncode != 0 and "cannot be locked" in second.stdout + second.stderr, second.stderr[-2000:]
    assert rerun.poll() is None

    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out[-5000:]
    jobs = record("cancelled, then retried training", out)
    assert [job for job, _ in jobs][0] == killed and len(jobs) == 2
    assert slurm_job(killed)["JobState"] == "CANCELLED"
    resumed = re.search(r"resumed from \S+/checkpoint-(\d+)", (tmp_path / "logs/base0/grid/train_sdpo_s_8x8_seed0.log").read_text())
    assert resumed and 4 <= int(resumed.group(1)) < RESUMABLE["grid"]["train"]["sdpo_s"]["max_steps"], out[-3000:]
    got = load_file(tmp_path / CELL / "model/model.safetensors")
    assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
    JOBS.append(f"resume: job {killed} cancelled after checkpoint-4, retry resumed from checkpoint-{resumed.group(1)}, "
                f"{len(got)} of {len(expected)} tensors torch.equal to the uninterrupted run's")
