"""Every job is a fresh process, so what a stage imports is paid once per job: a stage must
import only what it uses. Checked in a clean interpreter, as Snakemake starts one."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[1] / "workflow"
HEAVY = ("torch", "transformers", "trl", "datasets", "accelerate")

# stage -> heavy packages it must not import
ANALYSIS = ("base_summary", "richness_table", "grid_summary", "job_times", "bases_summary", "world", "coverage",
            "offpolicy_contexts")
SAMPLING = ("sample", "select_problems", "contexts", "teacher_probe")
FORBIDDEN = {**{s: HEAVY for s in ANALYSIS}, **{s: ("trl", "datasets") for s in SAMPLING},
             # pandas too, where the stage makes no table: these run once per evaluation job
             **{s: ("trl", "datasets", "pandas") for s in ("sample", "select_problems", "contexts")}}


def imported_after(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKFLOW), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return set(json.loads(run.stdout.splitlines()[-1]))


@pytest.mark.parametrize("stage", sorted(FORBIDDEN))
def test_stage_imports_only_what_it_uses(stage):
    loaded = imported_after(f"selfdistill.stages.{stage}")
    assert f"selfdistill.stages.{stage}" in loaded  # the probe itself works
    assert not loaded & set(FORBIDDEN[stage]), f"{stage} imports {sorted(loaded & set(FORBIDDEN[stage]))}"


def test_seeding_still_reaches_torch():
    # the training stages seed torch through cli.seed_everything, which now imports it itself
    from selfdistill.stages.cli import seed_everything
    import torch

    seed_everything(3)
    first = torch.rand(2)
    seed_everything(3)
    assert torch.equal(first, torch.rand(2))


def test_stage_body_runs_with_imports_frozen(tmp_path):
    # what was imported before the body is left out of garbage collection, for the job's run and exit
    out = tmp_path / "out.txt"
    code = ("import gc, json; from selfdistill.stages.cli import stage_run\n"
            "before = gc.get_freeze_count()\n"
            f"with stage_run('probe', ['--out', 'x={out}']) as (params, inp, outp):\n"
            "    inside = gc.get_freeze_count()\n"
            "    open(outp.x, 'w').write('made')\n"
            "print(json.dumps([before, inside]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKFLOW), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    before, inside = json.loads(run.stdout.splitlines()[-1])
    assert before == 0 and inside > 1000
    assert out.read_text() == "made" and Path(f"{out}.prov.json").exists()
