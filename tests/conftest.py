"""Shared by the workflow tests: how they call snakemake, and one finished run of the test
config, made once per session because it takes a minute or two."""
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_CONFIG = ROOT / "config" / "test.yaml"
# the test config's methods: each has its own rule evaluating its cells, evaluate_cell_<method>
TEST_METHODS = ("sft_ug", "sft_sg", "sdpo_s", "sdpo_s_nothink", "sdpo_s_keepdoubt", "sdpo_s_doubtful", "grpo")


def evaluations(per_cell: dict[str, int]) -> dict[str, int]:
    """{rule: jobs} of the grid's evaluations, from {method: cells}."""
    return {f"evaluate_cell_{method}": n for method, n in per_cell.items()}


def resources_of(stdout: str, rule: str) -> list[str]:
    """The `resources:` line of each job of `rule` that a (dry) run prints."""
    return re.findall(rf"^rule {rule}:\n(?:.*\n)*?\s+resources: (.*)$", stdout, flags=re.M)


def snakemake(workdir: Path, *args: str, snakefile: Path = ROOT / "Snakefile",
              env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(snakefile), "-d", str(workdir), *args],
                          capture_output=True, text=True, env=env)


def scheduled(run: subprocess.CompletedProcess) -> Counter:
    """{rule: jobs} a dry run plans; empty when it has nothing to do."""
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return Counter(re.findall(r"^rule (\w+):$", run.stdout, flags=re.M))


@pytest.fixture(scope="session")
def test_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    run = snakemake(workdir, "--cores", "2", "--configfile", str(TEST_CONFIG))
    logs = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/**/*.log")))
    assert run.returncode == 0, run.stderr[-5000:] + logs
    return workdir


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a module's tests: their models are tiny, so extra threads only spin
    against each other and against any other process on the machine (seen: 5 s on one thread,
    90 s on two under load)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# lines a test reports under its own heading at the end of the run, where -q still shows them
REPORT: dict[str, list[str]] = {}


def pytest_terminal_summary(terminalreporter):
    for heading, lines in REPORT.items():
        terminalreporter.section(heading)
        for line in lines:
            terminalreporter.write_line(line)
