"""Config validation against the JSON schema, with errors that name the key and what is allowed."""
from __future__ import annotations

import math
import os
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from selfdistill.bases import seeded_key
from selfdistill.data.arith import SHARES
from selfdistill.data.arith_splits import SOURCES
from selfdistill.data.arith_space import distinct_problems
from selfdistill.data.coverage import LEVELS
from selfdistill.data.mathdata import BENCHMARKS
from selfdistill.training.tracking import check_tracker

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"
PACKAGE = "package:"


class ConfigError(ValueError):
    pass


def read_config_file(path: str | Path) -> dict:
    """A config file's mapping, or a ConfigError naming the file, and the line of a YAML error
    (Snakemake's own message names neither)."""
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ConfigError(f"config file {path}: cannot be read ({err.strerror})") from None
    try:
        config = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise ConfigError(f"config file {path}: not valid YAML at {where}: {err.problem or err.context}") from None
    if config is None:
        raise ConfigError(f"config file {path} is empty; a config file holds a mapping of config keys, "
                          "such as 'grid: {seeds: [0, 1]}'")
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path}: the top level is a {type(config).__name__}, not a mapping of "
                          "config keys such as 'grid: {seeds: [0, 1]}'")
    return config


def _where(error) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _properties(schema: dict, root: dict) -> set[str]:
    """Keys a schema object defines, through its allOf and local $ref parts."""
    if "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return _properties(target, root) | set(schema.get("properties", {}))
    return set(schema.get("properties", {})).union(*(_properties(sub, root) for sub in schema.get("allOf", [])))


def _explain(error, root: dict) -> str | None:
    """One line naming the key and what is allowed; None for an error that only echoes another."""
    key, schema = _where(error), error.schema
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        seeds = [k for k in error.instance if seeded_key([*map(str, error.absolute_path), k])]
        hint = f"; {', '.join(seeds)} here is set by `bases`, one base model per entry" if seeds else ""
        return f"config key {key}: {error.message}; allowed keys here: {allowed}{hint}"
    if error.validator == "unevaluatedProperties":
        allowed = _properties(schema, root)
        # a failing sub-schema evaluates none of its keys, so every key shows up here; only
        # keys no part of the schema defines are wrong
        unknown = sorted(set(error.instance) - allowed)
        if not unknown:
            return None
        return (f"config key {key}: {', '.join(f'{k!r} was unexpected' for k in unknown)}; "
                f"allowed keys here: {', '.join(sorted(allowed))}")
    if error.validator == "enum":
        return f"config key {key}: {error.instance!r} is not allowed; valid: {', '.join(map(repr, schema['enum']))}"
    return f"config key {key}: {error.message}"


def _non_finite(value, key: str = "") -> list[str]:
    """Every NaN or infinity in the config: YAML reads .nan and .inf as numbers, and a JSON schema's
    bounds compare false with NaN, so no range in the schema would stop one reaching a trainer."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _non_finite(v, f"{key}.{k}" if key else str(k))]
    if isinstance(value, list):
        return [line for i, v in enumerate(value) for line in _non_finite(v, f"{key}.{i}")]
    if isinstance(value, float) and not math.isfinite(value):
        return [f"config key {key}: {value} is not a finite number"]
    return []


def validate_config(config: dict, schema_path: Path = SCHEMA, root: str | Path = ".") -> None:
    """Raises ConfigError listing every problem, or returns None for a valid config. `root` is
    where relative paths in the config start (the repository root)."""
    schema = yaml.safe_load(schema_path.read_text())
    errors = sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    problems = _non_finite(config) + [line for e in errors if (line := _explain(e, schema)) is not None]
    problems += _cross_checks(config, Path(root)) if not problems else []
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))


def _cross_checks(config: dict, root: Path) -> list[str]:
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
    return (out + _world_checks(config) + _model_checks(config["model"]["name"], root) + _arith_checks(config)
            + _grid_checks(config["grid"]) + _compute_checks(config) + _tracker_checks(config))


def _model_checks(name: str, root: Path) -> list[str]:
    """A name that can only be a path must be an existing folder; hub ids are owner/name."""
    looks_local = name.startswith(("/", ".", "~")) or name.count("/") > 1 or "\\" in name
    folder = root / name
    if name == "built_in" or name.startswith(PACKAGE) or not looks_local or folder.is_dir():
        return []
    what = "is not a folder" if folder.exists() else "does not exist"
    return [f"config key model.name: local folder {name!r} {what} (resolved to {os.path.abspath(folder)}; a "
            f"relative path starts at the repository root, and ~ is not expanded); valid are built_in, an "
            f"existing folder, a hub id owner/name or {PACKAGE}<module>"]


def _arith_checks(config: dict) -> list[str]:
    """Sizes the arithmetic world cannot draw, found before its job spends hours trying."""
    if config["world"] != "arith":
        return []
    arith, out = config["arith"], []
    for split, (difficulty, key) in SOURCES.items():
        space = distinct_problems(**arith[difficulty])
        # each split owns a share of the problem space (selfdistill.data.arith.split_of)
        if space is not None and arith[key] > SHARES[split] * space:
            out.append(f"config key arith.{key}: {arith[key]} distinct problems requested, but split {split!r} "
                       f"owns {SHARES[split]:.0%} of the {int(space)} that arith.{difficulty} holds; ask for fewer "
                       f"or widen arith.{difficulty}")
    needs = {label: LEVELS[label][0] for label in config["grid"]["coverage"] if LEVELS[label][0] is not None}
    if needs and max(needs.values()) > arith["train_size"]:
        label = max(needs, key=needs.get)
        out.append(f"config key arith.train_size: {arith['train_size']} is smaller than coverage level {label!r} "
                   f"of grid.coverage, which needs {needs[label]} distinct training problems")
    return out


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
    """Each training process takes an equal share of every batch (selfdistill.training.parallel):
    one process per GPU with an accelerate config, compute.train.processes on a CPU."""
    train = config.get("compute", {}).get("train", {})
    gpus, cpus = train.get("gpus", 0), train.get("processes", 1)
    if gpus and cpus > 1:
        return [f"config key compute.train.processes: {cpus} processes on a CPU, but gpus={gpus}; a job with GPUs "
                "runs one process per GPU (accelerate_config), so leave processes out or set gpus to 0"]
    n, key = (gpus, "gpus") if "accelerate_config" in train else (cpus, "processes")
    if n < 2:
        return []
    grid = config["grid"]
    return [f"config key grid.train.{m}.batch_size: {grid['train'][m]['batch_size']} does not split evenly over "
            f"compute.train.{key}={n} training processes"
            for m in grid["methods"] if m in grid["train"] and grid["train"][m]["batch_size"] % n]


def _tracker_checks(config: dict) -> list[str]:
    problem = check_tracker(config.get("report_to", "none"))
    return [problem] if problem else []
