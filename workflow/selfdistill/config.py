"""Config validation against the JSON schema, with errors that name the key and what is allowed."""
from __future__ import annotations

from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from .mathdata import BENCHMARKS

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    pass


def _where(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _explain(error) -> str:
    key, schema = _where(error), error.schema
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        return f"config key {key}: {error.message}; allowed keys here: {allowed}"
    if error.validator == "enum":
        return f"config key {key}: {error.instance!r} is not allowed; valid: {', '.join(map(repr, schema['enum']))}"
    return f"config key {key}: {error.message}"


def validate_config(config: dict, schema_path: Path = SCHEMA) -> None:
    """Raises ConfigError listing every problem, or returns None for a valid config."""
    schema = yaml.safe_load(schema_path.read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    problems = [_explain(e) for e in errors]
    problems += _cross_checks(config) if not errors else []
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))


def _cross_checks(config: dict) -> list[str]:
    """Constraints between keys that a JSON schema cannot state."""
    out = []
    for split in ("pretrain", "in_domain", "ood"):
        d = config["arith"][split]
        if d["min_ops"] > d["max_ops"]:
            out.append(f"config key arith.{split}: min_ops={d['min_ops']} exceeds max_ops={d['max_ops']}")
    low, high = config["section3"]["pass_rate"]
    if low > high:
        out.append(f"config key section3.pass_rate: low={low} exceeds high={high}")
    arch = config["base_model"]["arch"]
    if arch["hidden_size"] % arch["num_heads"]:
        out.append(f"config key base_model.arch.num_heads: {arch['num_heads']} does not divide "
                   f"hidden_size={arch['hidden_size']}")
    mix = sum(config["arith"][k] for k in ("guided_full", "guided_unchecked", "guided_nothink"))
    if mix > 1:
        out.append(f"config keys arith.guided_full + arith.guided_unchecked + arith.guided_nothink: {mix} exceeds 1")
    return out + _world_checks(config) + _grid_checks(config["grid"]) + _compute_checks(config)


def _world_checks(config: dict) -> list[str]:
    out = []
    if config["world"] == "math" and config["model"]["name"] == "built_in":
        out.append("config key model.name: built_in is the arithmetic world's tiny model, pretrained on its "
                   "corpus; world: math needs a pretrained model (a hub id, a local folder or package:<module>)")
    math = config["math"]
    unknown = [n for n in math["ood"] if n not in BENCHMARKS and n not in math["benchmarks"]]
    if unknown:
        out.append(f"config key math.ood: {unknown} have no source; pinned benchmarks are "
                   f"{', '.join(BENCHMARKS)}, others need an entry in math.benchmarks")
    return out


def _grid_checks(grid: dict) -> list[str]:
    out = []
    for method in grid["methods"]:
        t = grid["train"].get(method)
        if t is None:
            out.append(f"config key grid.train.{method}: missing; every method in grid.methods needs its settings")
        elif "num_generations" in t and t["batch_size"] % t["num_generations"]:
            out.append(f"config key grid.train.{method}.batch_size: {t['batch_size']} is not a multiple of "
                       f"num_generations={t['num_generations']}")
        elif "max_steps" in t and any(t[k] % t.get("optimizer_steps_per_generation", 1) for k in ("max_steps", "checkpoint_interval")):
            out.append(f"config keys grid.train.{method}.max_steps and checkpoint_interval: must be multiples of "
                       f"optimizer_steps_per_generation={t['optimizer_steps_per_generation']}, so a checkpoint "
                       f"never splits a generation")
    return out


def _compute_checks(config: dict) -> list[str]:
    """Each training process takes an equal share of every batch (selfdistill.parallel)."""
    train = config.get("compute", {}).get("train", {})
    n = train.get("gpus", 0)
    if "accelerate_config" not in train or n < 2:
        return []
    grid = config["grid"]
    return [f"config key grid.train.{m}.batch_size: {grid['train'][m]['batch_size']} does not split evenly over "
            f"compute.train.gpus={n} training processes"
            for m in grid["methods"] if m in grid["train"] and grid["train"][m]["batch_size"] % n]
