"""Sharing results through DVC, as two collaborators would: one tracks and pushes a finished run
from a clone of this repository, the other clones, pulls and restores, and Snakemake finds
nothing to do. Both clones use the repository's default remote, a folder beside them."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import configparser
import tomllib

import pytest
from conftest import ROOT

from selfdistill.lineage import share as share_module

IDENTITY = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
            for what, value in (("NAME", "test"), ("EMAIL", "test@example.com"))}
# base0: the one base model's world, model, evaluations, Section 3 and grid; benchmarks: Snakemake's
# time and memory per job, a record of the run like logs/
TRACKED_ENTRIES = {"base0", "summary", "figures", "benchmarks"}


def sh(repo: Path, *cmd: str, ok: bool = True) -> subprocess.CompletedProcess:
    # each clone imports its own copy of the package, as a fresh checkout would
    env = {**os.environ, **IDENTITY, "DVC_NO_ANALYTICS": "1", "PYTHONPATH": str(repo / "workflow")}
    run = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0 or not ok, f"{cmd} exited {run.returncode}:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    return run


def share(repo: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    return sh(repo, sys.executable, "-m", "selfdistill.lineage.share", *args, ok=ok)


def snakemake_dry_run(repo: Path) -> str:
    run = sh(repo, sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", "config/test.yaml")
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def clones(test_run, tmp_path_factory):
    """(origin, clone): origin holds the finished run, tracked and pushed; clone has pulled it."""
    base = tmp_path_factory.mktemp("share")
    origin, clone = base / "origin", base / "clone"
    # this working tree as a commit, whether or not its changes are committed here
    listed = sh(ROOT, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout
    for rel in filter(None, listed.split("\0")):
        if (ROOT / rel).is_file():  # a file deleted but not yet committed is still listed
            (origin / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, origin / rel)
    sh(origin, "git", "init", "-q")
    sh(origin, "git", "add", "-A")
    sh(origin, "git", "commit", "-qm", "code")
    # the finished run stands in for running the workflow in origin: same code, same config
    for part in ("results", "logs", ".snakemake"):
        shutil.copytree(test_run / part, origin / part, symlinks=True, dirs_exist_ok=True)
    share(origin, "track")
    sh(origin, "git", "add", "-A")
    sh(origin, "git", "commit", "-qm", "results")
    share(origin, "push")
    sh(base, "git", "clone", "-q", str(origin), str(clone))
    share(clone, "pull")
    return origin, clone


def test_track_writes_one_pointer_per_stage_folder_and_disturbs_nothing(clones):
    origin, _ = clones
    assert {p.name[:-len(".dvc")] for p in (origin / "results").glob("*.dvc")} == TRACKED_ENTRIES
    assert (origin / "logs.dvc").is_file()
    # git holds the pointers, DVC the bytes
    in_git = set(sh(origin, "git", "ls-files", "results").stdout.split())
    assert in_git == {"results/.gitignore", "results/.gitkeep", *(f"results/{f}.dvc" for f in TRACKED_ENTRIES)}
    assert "Nothing to be done" in snakemake_dry_run(origin)


def test_tracked_files_link_to_the_cache_instead_of_copying(clones):
    """A model folder tracked by DVC is stored once: the workspace file and the cache's are one
    (a reflink shares blocks and cannot be told from a copy here, so hard or symbolic links)."""
    for repo in clones:
        weights = next((repo / "results/base0/base_model").glob("*.safetensors"))
        cached = {p.stat().st_ino for p in (repo / ".dvc/cache").rglob("*") if p.is_file()}
        assert weights.is_symlink() or weights.stat().st_ino in cached, f"{weights} is a copy of the cache's file"


def test_restore_refuses_a_changed_artifact_and_names_it(clones):
    _, clone = clones
    table = clone / "results/summary/base0/richness.csv"
    edited = table.read_text() + "tampered,0\n"
    table.unlink()  # DVC's links are read-only, so that an edit cannot reach the cache
    table.write_text(edited)
    run = share(clone, "restore", "--configfile", "config/test.yaml", ok=False)
    assert run.returncode == 1
    assert "results/summary/base0/richness.csv: changed after it was made" in run.stderr
    assert not list(clone.glob(".snakemake/metadata/*"))  # nothing was touched, nothing recorded
    sh(clone, sys.executable, "-m", "dvc", "checkout", "--force", "results/summary.dvc")  # the advised fix


def test_restore_refuses_results_made_with_other_settings(clones, tmp_path):
    _, clone = clones
    other = tmp_path / "other.yaml"
    other.write_text("section3:\n  traces_per_problem: 3\n")
    run = share(clone, "restore", "--configfile", "config/test.yaml", str(other), ok=False)
    assert run.returncode == 1
    assert "results/base0/section3/traces/none.json: config no longer matches" in run.stderr
    assert "results/summary/base0/richness.csv" not in run.stderr


def test_pull_and_restore_leave_snakemake_nothing_to_do(clones):
    _, clone = clones
    share(clone, "restore", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in snakemake_dry_run(clone)
    sh(clone, sys.executable, "-m", "selfdistill.lineage.audit", "--all", "results")
    assert "up to date" in sh(clone, sys.executable, "-m", "dvc", "status").stdout
    summary = sh(clone, sys.executable, "-m", "snakemake", "--cores", "1", "--summary", "--configfile", "config/test.yaml")
    assert share_module.pending(summary.stdout) == []
    assert "results/summary/base0/richness.csv" in summary.stdout


def test_pending_lists_what_the_summary_plans_to_make():
    table = ("output_file\tdate\trule\tlog-file(s)\tstatus\tplan\n"
             "results/a.json\tSun Nov 29\tworld\t-\tok\tno update\n"
             "results/b.json\t-\tworld\t-\tmissing\tupdate pending\n")
    assert share_module.pending(table) == ["results/b.json"]
    with pytest.raises(ValueError, match="not a snakemake --summary table"):
        share_module.pending("Building DAG of jobs...\nNothing to be done.\n")


def test_dvc_is_an_extra_that_only_sharing_needs(monkeypatch, capsys):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(dep.startswith("dvc") for dep in project["dependencies"])
    assert any(dep.startswith("dvc") for dep in project["optional-dependencies"]["share"])
    monkeypatch.setattr(share_module, "find_spec", lambda name: None)
    for command in ("track", "push", "pull"):
        with pytest.raises(SystemExit, match=rf"share {command} needs DVC.*\[share\]"):
            share_module.COMMANDS[command]([])


def test_the_dvc_cache_links_rather_than_copies():
    config = configparser.ConfigParser()
    config.read(ROOT / ".dvc/config")
    assert config["cache"]["type"].strip('"').split(",") == ["reflink", "hardlink", "symlink"]
