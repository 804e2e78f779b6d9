"""The rules' conda environments (envs/) agree with pyproject.toml: every package they name is
one the project declares, at the version range it declares or at a pin inside that range."""
import tomllib

import pytest
import yaml
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))


def declared() -> dict[str, Requirement]:
    reqs = PROJECT["dependencies"] + [r for extra in PROJECT["optional-dependencies"].values() for r in extra]
    return {canonicalize_name(r.name): r for r in map(Requirement, reqs)}


def env(path) -> tuple[list[str], list[Requirement]]:
    """(conda packages, pip requirements) of an environment file."""
    deps = yaml.safe_load(path.read_text())["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = [Requirement(r) for d in deps if isinstance(d, dict) for r in d["pip"]]
    return conda, pip


def test_every_rule_environment_is_here():
    assert {p.name for p in ENVS} == {"analysis.yaml", "pipeline.yaml", "vllm.yaml"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_environment_pins_agree_with_pyproject(path):
    conda, pip = env(path)
    python = next(d for d in conda if d.startswith("python="))
    assert SpecifierSet(PROJECT["requires-python"]).contains(python.partition("=")[2] + ".0")
    assert set(conda) == {python, "pip"}, "everything else comes from pip, under pyproject's names"
    project = declared()
    for req in pip:
        name = canonicalize_name(req.name)
        assert name in project, f"{path.name}: {req.name} is not a dependency in pyproject.toml"
        wanted = project[name].specifier
        pins = [s for s in req.specifier if s.operator == "=="]
        if pins:  # a pin must lie in the declared range
            assert len(req.specifier) == 1 and wanted.contains(pins[0].version), (path.name, str(req), str(wanted))
        else:
            assert req.specifier == wanted, (path.name, str(req), str(wanted))


@pytest.mark.parametrize("name", ["pipeline.yaml", "vllm.yaml"])
def test_model_environments_hold_every_dependency(name):
    _, pip = env(ROOT / "envs" / name)
    have = {canonicalize_name(r.name) for r in pip}
    needed = {canonicalize_name(Requirement(r).name) for r in PROJECT["dependencies"]}
    if name == "vllm.yaml":
        needed.discard("torch")  # vLLM brings the torch it was built against
        needed.add("vllm")
    assert needed <= have, needed - have
    assert "snakemake-executor-plugin-slurm" in have  # the README's cluster steps use the profile
