"""Experiment tracking as a setting: the config's report_to reaches every trainer's config, only
training jobs carry it, and a tracker that is not installed stops the run naming the key."""
import copy
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from selfdistill.config import ConfigError, validate_config
from selfdistill.training import tracking
from selfdistill.training.onpolicy import training_args

CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
TRAIN = CONFIG["grid"]["train"]


@pytest.fixture
def installed(monkeypatch):
    """Every tracker importable, whether or not this environment has it: the trainer configs are
    built, not trained, so nothing imports the tracker."""
    monkeypatch.setattr(tracking, "find_spec", lambda name: object())


def test_default_reports_nowhere(monkeypatch, tmp_path):
    monkeypatch.delenv(tracking.TRACKER_ENV, raising=False)
    assert CONFIG["report_to"] == "none"
    for method in ("grpo", "sdpo_s"):
        assert training_args(method, TRAIN[method], str(tmp_path), seed=0, use_cpu=True).report_to == []


@pytest.mark.parametrize("method", ["grpo", "sdpo_s", "sdpo_s_nothink"])
def test_the_tracker_and_run_name_reach_the_onpolicy_trainers(method, installed, monkeypatch, tmp_path):
    prefix = tracking.job_environment("tensorboard", "train_onpolicy", {"method": method, "coverage": "8x8", "seed": "0"})
    env = dict(item.split("=", 1) for item in prefix.split())
    for name, value in env.items():
        monkeypatch.setenv(name, value.strip("'"))
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    args = training_args(method, TRAIN[method], str(tmp_path), seed=0, use_cpu=True)
    run = f"train_onpolicy/coverage=8x8,method={method},seed=0"
    assert (args.report_to, args.run_name, args.project) == (["tensorboard"], run, tracking.PROJECT)
    # outside the trainer's scratch folder, which the job deletes
    assert Path(tracking.os.environ["TENSORBOARD_LOGGING_DIR"]) == Path(tracking.LOG_DIR, run)


def test_only_training_jobs_carry_a_tracker():
    for stage in tracking.TRAINING_STAGES:
        assert tracking.job_environment("trackio", stage, {}).startswith(f"{tracking.TRACKER_ENV}=trackio ")
        assert tracking.job_environment("none", stage, {}) == ""
    assert tracking.job_environment("trackio", "sample", {"split": "ood"}) == ""


def test_trainer_args_name_the_tracker_and_the_run(installed, monkeypatch):
    """What run_sft (pretraining and SFT) and the on-policy configs pass their trainer."""
    monkeypatch.setenv(tracking.TRACKER_ENV, "trackio")
    monkeypatch.setenv(tracking.RUN_ENV, "base_model")
    assert tracking.trainer_args() == {"report_to": "trackio", "run_name": "base_model", "project": tracking.PROJECT}


def test_a_tracker_that_is_not_installed_stops_the_run(monkeypatch):
    monkeypatch.setattr(tracking, "find_spec", lambda name: None)
    config = copy.deepcopy(CONFIG)
    for name in ("tensorboard", "trackio"):
        config["report_to"] = name
        with pytest.raises(ConfigError, match=rf"config key report_to: {name} is not installed.*pip install {name}"):
            validate_config(config, root=ROOT)
    monkeypatch.setenv(tracking.TRACKER_ENV, "tensorboard")
    with pytest.raises(SystemExit, match="tensorboard is not installed"):
        tracking.trainer_args()


def test_an_unknown_tracker_is_refused_by_the_schema():
    config = {**copy.deepcopy(CONFIG), "report_to": "wandb"}
    with pytest.raises(ConfigError, match="report_to"):
        validate_config(config, root=ROOT)
