"""What a change reruns, measured by dry runs against the session's finished test-config run.
None of these tests edits the repository: code edits go to a copy, touches to a copy of the run."""
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, TEST_CONFIG, TEST_METHODS, evaluations, scheduled, snakemake

# every job of the test config's grid that reads the base model's samples (not on-policy training)
GRID_SAMPLED = {"evaluate_base_grid": 4, "offpolicy_unguided": 2, "offpolicy_contexts": 2, "offpolicy_guided": 2,
                "train_sft": 4, **evaluations(dict.fromkeys(TEST_METHODS, 2)), "grid_summary": 1}
# everything but world, base_model and the coverage sets
DOWNSTREAM_OF_THE_MODEL = {"evaluate_base": 4, "base_summary": 1, "select_problems": 1, "contexts": 1,
                          "teacher_traces": 4, "richness_table": 1, "teacher_probe": 1, "all": 1, "job_times": 1, **GRID_SAMPLED,
                          "train_onpolicy": 10, "premises": 1}


def dry_run(workdir: Path, *args: str, **kwargs):
    return scheduled(snakemake(workdir, "-n", "--cores", "2", "--configfile", str(TEST_CONFIG), *args, **kwargs))


def test_changing_only_the_ood_split_reruns_its_evaluations_and_no_training(test_run, tmp_path):
    """Chains of another length: the OOD split is redrawn; the corpus, the other splits and every
    model stay as they are (each split has a stream and a share of the problem space of its own)."""
    extra = tmp_path / "change.yaml"
    extra.write_text("arith:\n  ood: {min_ops: 6, max_ops: 6, start_max: 15, operand_max: 5, mul_max: 3, value_max: 30}\n")
    jobs = dry_run(test_run, "--configfile", str(TEST_CONFIG), str(extra))
    assert jobs == {"world": 1, "evaluate_base": 2, "base_summary": 1, "evaluate_base_grid": 1, "premises": 1,
                    **evaluations(dict.fromkeys(TEST_METHODS, 2)), "grid_summary": 1, "all": 1, "job_times": 1}


@pytest.mark.parametrize("change, expected", [
    # the student traces the teacher probe reads, and so the findings, change too
    ("section3:\n  traces_per_problem: 3\n",
     {"teacher_traces": 4, "richness_table": 1, "teacher_probe": 1, "grid_summary": 1, "all": 1, "job_times": 1}),
    # the base model's own evaluation and the grid's are set apart
    # the premise table's forced doubt is paired with the base's OOD samples
    ("evaluation:\n  sampling: {n: 3}\n",
     {"evaluate_base": 4, "base_summary": 1, "premises": 1, "grid_summary": 1, "all": 1, "job_times": 1}),
    ("grid:\n  evaluation:\n    sampling: {n: 3}\n",
     {"evaluate_base_grid": 4, **evaluations(dict.fromkeys(TEST_METHODS, 2)), "grid_summary": 1, "all": 1, "job_times": 1}),
    # one method's setting: its two cells' training, their evaluations, the table
    ("grid:\n  train:\n    grpo: {learning_rate: 0.001}\n",
     {"train_onpolicy": 2, "evaluate_cell_grpo": 2, "grid_summary": 1, "all": 1, "job_times": 1}),
    # the premise table's SFT probe runs the grid's SFT settings
    ("grid:\n  train:\n    sft_sg: {epochs: 2}\n",
     {"train_sft": 2, "evaluate_cell_sft_sg": 2, "premises": 1, "grid_summary": 1, "all": 1, "job_times": 1}),
    # a new coverage level: its own set, samples, cells and evaluations; nothing of the others
    ('grid:\n  coverage: ["8x8", "64", "1x64"]\n',
     {"coverage": 1, "evaluate_base_grid": 1, "offpolicy_unguided": 1, "offpolicy_contexts": 1, "offpolicy_guided": 1,
      "train_sft": 2, "train_onpolicy": 5, **evaluations(dict.fromkeys(TEST_METHODS, 1)), "grid_summary": 1, "all": 1, "job_times": 1}),
])
def test_a_changed_setting_reruns_only_the_cells_that_use_it(test_run, tmp_path, change, expected):
    extra = tmp_path / "change.yaml"
    extra.write_text(change)
    assert dry_run(test_run, "--configfile", str(TEST_CONFIG), str(extra)) == expected


@pytest.mark.parametrize("module, old, new, expected", [
    (None, None, None, {}),  # a copy of the code hashes the same wherever it lies
    # the code hash reads what the code does: a comment or docstring in a module every stage uses is none of it
    ("evaluation/metrics.py", "", "# a comment\n", {}),
    ("stages/cli.py", '"""Yields (params, inputs, outputs)', '"""Gives (params, inputs, outputs)', {}),
    # findings read Section 3's evaluations, not the table, so the table's code reruns only the table
    ("stages/richness_table.py", '"%.4g"', '"%.5g"', {"richness_table": 1, "all": 1, "job_times": 1}),
    # sample_and_grade is used by the sample, select_problems and contexts stages, not by training
    ("decoding/sampling.py", "    rows = []\n", "    rows = list()\n",
     {k: v for k, v in DOWNSTREAM_OF_THE_MODEL.items() if k != "train_onpolicy"}),
    ("training/onpolicy.py", "if max_length is None:", "if max_length is None or not rows:",
     {"train_onpolicy": 10, **evaluations(dict.fromkeys(TEST_METHODS[2:], 2)), "grid_summary": 1, "all": 1, "job_times": 1}),
])
def test_a_code_change_reruns_only_the_stages_that_use_it(test_run, tmp_path, module, old, new, expected):
    package = code_copy(tmp_path)
    if module:
        source = (package / module).read_text()
        assert old in source
        (package / module).write_text(source.replace(old, new, 1) if old else source + new)
    assert dry_run_copy(test_run, tmp_path) == expected


def test_moving_modules_into_a_subpackage_reruns_nothing(test_run, tmp_path):
    package = code_copy(tmp_path)
    (package / "text").mkdir()
    (package / "text/__init__.py").write_text('"""What completions say."""\n')
    for group, name in (("evaluation", "metrics"), ("data", "templates")):
        (package / f"{group}/{name}.py").rename(package / f"text/{name}.py")
    for path in [*package.rglob("*.py"), *(tmp_path / "workflow/rules").glob("*.smk")]:
        source = re.sub(r"selfdistill\.(evaluation|data)\.(metrics|templates)\b", r"selfdistill.text.\2", path.read_text())
        path.write_text(source)
    assert dry_run_copy(test_run, tmp_path) == {}


def code_copy(tmp_path: Path) -> Path:
    """A copy of the code in `tmp_path`; returns its package folder, to be edited."""
    shutil.copy(ROOT / "Snakefile", tmp_path)
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    return tmp_path / "workflow/selfdistill"


def dry_run_copy(workdir: Path, code: Path):
    # snakemake and the jobs both import the copied package, as they would in a checkout
    env = {**os.environ, "PYTHONPATH": str(code / "workflow")}
    return dry_run(workdir, snakefile=code / "Snakefile", env=env)


@pytest.fixture
def run_copy(test_run, tmp_path):
    return Path(shutil.copytree(test_run, tmp_path / "run", symlinks=True))  # copy2 keeps the mtimes


def touch(path: Path) -> None:
    os.utime(path)  # now: newer than every output of the finished run


def test_touching_a_small_input_reruns_nothing(run_copy):
    # snakemake recorded the sha256 of each input up to --max-checksum-file-size (1 MB)
    touch(run_copy / "results/base0/world/train.jsonl")
    assert dry_run(run_copy) == {}


def test_touching_an_input_over_the_checksum_limit_reruns_its_consumers(run_copy):
    touch(run_copy / "results/base0/world/train.jsonl")
    expected = {"select_problems": 1, "contexts": 1, "teacher_traces": 4, "richness_table": 1, "teacher_probe": 1,
                "all": 1, "job_times": 1,
                "coverage": 2, **GRID_SAMPLED, "train_onpolicy": 10, "premises": 1,
                "evaluate_base_grid": 2}  # the seen splits; unseen in-domain and OOD do not read the pool
    assert dry_run(run_copy, "--max-checksum-file-size", "1000") == expected


def test_a_directory_output_is_dated_by_its_marker_only(run_copy):
    model = run_copy / "results/base0/base_model"
    touch(model / "model.safetensors")
    touch(model)
    assert dry_run(run_copy) == {}
    touch(model / ".snakemake_timestamp")
    assert dry_run(run_copy) == DOWNSTREAM_OF_THE_MODEL


def test_editing_how_a_stage_is_started_reruns_nothing(test_run, tmp_path):
    # the shell line only starts the stage; its code, settings and inputs decide what it makes
    shutil.copy(ROOT / "Snakefile", tmp_path)
    for folder in ("workflow", "config", "profiles"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    rules = tmp_path / "workflow/rules/world.smk"
    started = '"{params.cmd} --params'
    assert started in rules.read_text()
    rules.write_text(rules.read_text().replace(started, '"PYTHONUNBUFFERED=1 {params.cmd} --params'))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "workflow")}
    assert dry_run(test_run, snakefile=tmp_path / "Snakefile", env=env) == {}
