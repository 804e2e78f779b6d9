"""GPU claims of jobs sharing a node, on a fake node whose devices are CUDA_VISIBLE_DEVICES."""
import os
import selectors
import subprocess
import sys

import pytest

from selfdistill.training.gpus import GPUError, claim, release

# prints the devices it was given, then holds them until its stdin closes
JOB = "import os, sys; print(os.environ['CUDA_VISIBLE_DEVICES'], flush=True); sys.stdin.read()"


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A node with four GPUs and its own lock folder."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2,3")
    monkeypatch.setenv("SELFDISTILL_GPU_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    return tmp_path / "locks"


def start(n: int, script: str = JOB) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "selfdistill.training.gpus", str(n), "--", sys.executable, "-c", script],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def given(job: subprocess.Popen, timeout: float = 30) -> set[str] | None:
    """The devices a job reports, or None if it reports none within `timeout` seconds."""
    with selectors.DefaultSelector() as sel:
        sel.register(job.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            return None
    return set(job.stdout.readline().strip().split(","))


def finish(job: subprocess.Popen) -> None:
    job.stdin.close()
    assert job.wait(timeout=30) == 0, job.stderr.read()


def test_concurrent_jobs_get_disjoint_devices_and_reuse_released_ones(node):
    a, b = start(2), start(2)
    got_a, got_b = given(a), given(b)
    assert len(got_a) == len(got_b) == 2 and not got_a & got_b and got_a | got_b == {"0", "1", "2", "3"}
    waiting = start(1)
    assert given(waiting, timeout=2) is None  # every device is held
    finish(a)
    assert given(waiting) <= got_a  # a's devices came free on its exit
    finish(b)
    finish(waiting)
    assert "waiting for 1 of GPUs 0, 1, 2, 3" in waiting.stderr.read()


def test_a_released_claim_is_claimed_again(node):
    first = claim(1, ["0", "1"], node)
    second = claim(1, ["0", "1"], node)
    assert [first[0][0], second[0][0]] == ["0", "1"]
    release(first)
    third = claim(1, ["0", "1"], node)
    assert third[0][0] == "0"
    release(second + third)


def test_asking_for_more_devices_than_exist_is_an_error(node, monkeypatch):
    with pytest.raises(GPUError, match=r"3 GPUs asked for, but only 2 exist here \(0, 1\)"):
        claim(3, ["0", "1"], node)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    job = start(1)
    assert job.wait(timeout=30) != 0
    assert "1 GPUs asked for, but only 0 exist here (none)" in job.stderr.read()


def test_slurm_allocations_are_left_alone(node, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    job = start(2)
    assert given(job) == {"5", "7"}
    finish(job)
    assert not node.exists()  # nothing was claimed
