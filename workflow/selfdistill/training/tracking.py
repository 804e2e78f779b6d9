"""Experiment tracking for every trainer (base-model pretraining, SFT, SDPO, GRPO): the config's
`report_to`. It reaches a training job through its command line's environment, not its settings,
so choosing a tracker reruns nothing and leaves every provenance record as it was.

    none         no tracker (the default)
    tensorboard  event files under logs/tensorboard/<stage>/<cell>/ (tensorboard --logdir logs/tensorboard)
    trackio      a local trackio project `selfdistill`, one run per job (trackio show --project selfdistill)
"""
from __future__ import annotations

import os
import shlex
from importlib.util import find_spec

TRACKERS = {"tensorboard": "tensorboard", "trackio": "trackio"}  # name -> the module it needs
TRAINING_STAGES = ("base_model", "train_sft", "train_onpolicy")
TRACKER_ENV, RUN_ENV = "SELFDISTILL_REPORT_TO", "SELFDISTILL_RUN"
LOG_DIR = "logs/tensorboard"
PROJECT = "selfdistill"


def check_tracker(name: str, where: str = "config key report_to") -> str | None:
    """None where `name` can be used here, else what is wrong with it."""
    if name == "none":
        return None
    if name not in TRACKERS:
        return f"{where}: {name!r} is no tracker; valid are none, {', '.join(TRACKERS)}"
    if find_spec(TRACKERS[name]) is None:
        return f"{where}: {name} is not installed in this environment: pip install {TRACKERS[name]}"
    return None


def job_environment(report_to: str, stage: str, cell: dict) -> str:
    """The shell prefix that hands the tracker and the job's run name to a stage's trainer;
    empty without a tracker or a trainer, so the default's command lines stay as they were."""
    if report_to == "none" or stage not in TRAINING_STAGES:
        return ""
    run = "/".join([stage, ",".join(f"{k}={v}" for k, v in sorted(cell.items()))] if cell else [stage])
    return f"{TRACKER_ENV}={shlex.quote(report_to)} {RUN_ENV}={shlex.quote(run)} "


def trainer_args() -> dict:
    """report_to and the run's name for a TRL/transformers trainer config."""
    name = os.environ.get(TRACKER_ENV, "none")
    problem = check_tracker(name, f"{TRACKER_ENV} (the config's report_to)")
    if problem:
        raise SystemExit(problem)
    if name == "none":
        return {"report_to": "none"}
    run = os.environ.get(RUN_ENV, "run")
    # transformers reads tensorboard's folder from the environment only; the default would be
    # inside the trainer's scratch folder, which the job deletes
    os.environ.setdefault("TENSORBOARD_LOGGING_DIR", f"{LOG_DIR}/{run}")
    return {"report_to": name, "run_name": run, "project": PROJECT}
