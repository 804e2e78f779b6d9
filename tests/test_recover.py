"""Outputs Snakemake does not remake by itself (deleted, or removed by a failed job while the
outputs made from them exist) are found by `selfdistill check`, which rebuilds exactly those and
everything made from them. Each test works on a copy of the session's finished test-config run."""
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from importlib import import_module
from pathlib import Path

import pytest
from conftest import ROOT, TEST_CONFIG, scheduled, snakemake

from selfdistill.lineage.provenance import SUFFIX

ARGS = ("-s", str(ROOT / "Snakefile"), "--configfile", str(TEST_CONFIG))


@pytest.fixture
def run_copy(test_run, tmp_path):
    return Path(shutil.copytree(test_run, tmp_path / "run", symlinks=True))  # copy2 keeps the mtimes


def check(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selfdistill", "check", *args, *ARGS], cwd=workdir,
                          capture_output=True, text=True)


def plain_dry_run(workdir: Path):
    return scheduled(snakemake(workdir, "-n", "--cores", "1", "--configfile", str(TEST_CONFIG)))


def listed(run: subprocess.CompletedProcess) -> set[str]:
    return set(re.findall(r"^  (\S+): missing$", run.stdout, flags=re.M))


def jobs_run(run: subprocess.CompletedProcess) -> Counter:
    """{rule: jobs} a run started (a real run says "localrule", a dry run "rule")."""
    return Counter(re.findall(r"^(?:local)?rule (\w+):$", run.stdout + run.stderr, flags=re.M))


def test_deleted_outputs_are_found_and_rebuilt_with_what_was_made_from_them(run_copy):
    evaluation = "results/base0/grid/grpo/8x8/seed0/eval/final/ood.json"
    cell = "results/base0/grid/sft_ug/8x8/seed0"
    in_cell = {str(p.relative_to(run_copy))[:-len(SUFFIX)] for p in (run_copy / cell).rglob("*" + SUFFIX)}
    untouched = run_copy / "results/base0/grid/sft_sg/8x8/seed0/model/model.safetensors"
    before = untouched.stat().st_mtime_ns
    (run_copy / evaluation).unlink()
    shutil.rmtree(run_copy / cell)
    assert plain_dry_run(run_copy) == {}  # Snakemake alone does not see them

    found = check(run_copy)
    assert found.returncode == 1, found.stdout + found.stderr
    assert listed(found) == {evaluation} | in_cell
    assert "snakemake --cores all -s" in found.stdout and "--forcerun" in found.stdout

    rebuilt = check(run_copy, "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:] + rebuilt.stderr[-3000:]
    # the cell's training and evaluation, the grpo cell's evaluation, and the table
    assert jobs_run(rebuilt) == {"train_sft": 1, "evaluate_cell_sft_ug": 1, "evaluate_cell_grpo": 1, "grid_summary": 1,
                                 "all": 1, "job_times": 1}
    assert untouched.stat().st_mtime_ns == before
    assert (run_copy / evaluation).exists()
    again = check(run_copy)
    assert again.returncode == 0 and "nothing to rebuild" in again.stdout
    assert plain_dry_run(run_copy) == {}


def test_an_output_removed_by_a_failed_job_is_found(run_copy):
    train, problems = run_copy / "results/base0/world/train.jsonl", "results/base0/section3/problems.jsonl"
    intact = train.read_bytes()
    train.write_bytes(intact[:len(intact) // 2])  # cut mid-line
    failed = snakemake(run_copy, "--cores", "1", "--configfile", str(TEST_CONFIG), "--forcerun", problems, problems)
    assert failed.returncode != 0
    log = (run_copy / "logs/base0/section3/select_problems.log").read_text()
    assert re.search(r"results/base0/world/train\.jsonl, line \d+: not valid JSON", log), log[-2000:]
    assert not (run_copy / problems).exists()  # Snakemake removes the output of a failed job

    train.write_bytes(intact)
    rebuild = {"select_problems": 1, "contexts": 1, "teacher_traces": 4, "richness_table": 1, "teacher_probe": 1,
               "grid_summary": 1, "all": 1, "job_times": 1}
    # whether a plain run remakes the output hangs on how Snakemake dates the restored input; it
    # never plans anything else, and check finds the missing output either way
    assert plain_dry_run(run_copy) in ({}, rebuild)
    found = check(run_copy)
    assert listed(found) == {problems}
    planned = check(run_copy, "--rebuild", "-n")
    assert planned.returncode == 0, planned.stdout[-3000:] + planned.stderr[-3000:]
    assert jobs_run(planned) == rebuild


def test_the_selfdistill_command_names_its_commands(capsys):
    module, _, function = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"][
        "selfdistill"].partition(":")
    assert getattr(import_module(module), function)([]) == 2
    usage = capsys.readouterr().err
    assert all(f"selfdistill {command}" in usage for command in ("check", "audit", "share"))


@pytest.mark.parametrize("argv, says", [(["--help"], "selfdistill share track|push|pull|restore"),
                                         (["share", "-h"], "share restore [SNAKEMAKE ARGS]")])
def test_the_commands_answer_help(argv, says, capsys):
    assert import_module("selfdistill.__main__").main(argv) == 0
    assert says in capsys.readouterr().out


def test_selfdistill_share_is_the_share_module(capsys):
    """`selfdistill share <bad>` reaches the share module's own commands."""
    assert import_module("selfdistill.__main__").main(["share", "nope"]) == 2
    assert "expected a command, one of track, restore, push, pull; got 'nope'" in capsys.readouterr().err


def test_check_names_a_config_file_snakemake_cannot_read(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("grid:\n  seeds: [0\n")
    assert import_module("selfdistill.lineage.recover").main(["--configfile", str(TEST_CONFIG), str(bad)]) == 2
    assert f"config file {bad}: not valid YAML at line 3" in capsys.readouterr().err
