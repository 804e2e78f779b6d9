"""What every rule declares beside its job: the software environment it runs in, the benchmark
file Snakemake measures it into, where it runs on a cluster and how often it is retried; and
that reading the Snakefile stays light. Read from the parsed workflow, as Snakemake sees it."""
import json
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, TEST_CONFIG

PAPER_CONFIG = ROOT / "config/paper/qwen3-8b-thinking.yaml"
HEAVY = {"torch", "transformers", "trl", "datasets", "accelerate"}
# the rules whose stages need no model (tests/test_stage_imports.py holds them to it)
ANALYSIS_RULES = {"world", "corpus", "coverage", "offpolicy_contexts", "base_summary", "richness_table", "grid_summary",
                  "job_times", "bases_summary"}
LOCAL_RULES = {"all", "world", "corpus", "fetch_model", "coverage", "offpolicy_contexts", "base_summary", "richness_table",
               "grid_summary", "job_times", "bases_summary"}

RULES_PROBE = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, Quietness, ResourceSettings

snakefile, workdir, *configs = sys.argv[1:]
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    workflow = api.workflow(snakefile=Path(snakefile), workdir=Path(workdir),
                            resource_settings=ResourceSettings(cores=1),
                            config_settings=ConfigSettings(configfiles=[Path(c) for c in configs]))._workflow
    rules = {r.name: {"conda": str(r.conda_env) if r.conda_env else None,
                      "benchmark": str(r.benchmark) if r.benchmark else None,
                      "retries": r._restart_times, "local": r.name in workflow._localrules,
                      "container": r.container_img} for r in workflow.rules}
    print(json.dumps(rules))
"""


def parsed_rules(tmp_path, *configs):
    run = subprocess.run([sys.executable, "-c", RULES_PROBE, str(ROOT / "Snakefile"), str(tmp_path),
                          *map(str, configs)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return parsed_rules(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    return parsed_rules(tmp_path_factory.mktemp("paper"), PAPER_CONFIG)


def env_of(rule: dict) -> str:
    return rule["conda"].rpartition("/")[2]


def env_packages(name: str) -> set[str]:
    pip = next(d["pip"] for d in yaml.safe_load((ROOT / "envs" / name).read_text())["dependencies"]
               if isinstance(d, dict))
    return {req.split("[")[0].split("=")[0].split(">")[0].split("<")[0].lower() for req in pip}


def test_every_rule_names_an_environment_file_that_exists(default, paper):
    for rules in (default, paper):
        for name, rule in rules.items():
            if name == "all":  # gathers files, runs nothing
                continue
            assert rule["conda"], name
            assert (ROOT / "envs" / env_of(rule)).is_file(), (name, rule["conda"])
            # the image the environments are built in under --sdm conda apptainer
            assert rule["container"].startswith("docker://"), name


def test_analysis_rules_run_without_torch_and_model_rules_follow_the_backend(default, paper):
    for rules, model_env in ((default, "pipeline.yaml"), (paper, "vllm.yaml")):
        for name, rule in rules.items():
            if name != "all":
                assert env_of(rule) == ("analysis.yaml" if name in ANALYSIS_RULES else model_env), name
    assert not env_packages("analysis.yaml") & HEAVY
    assert "torch" in env_packages("pipeline.yaml") and "vllm" in env_packages("vllm.yaml")


def test_every_rule_writes_its_own_benchmark_file(default, paper):
    for rules in (default, paper):
        for name, rule in rules.items():
            if name == "all":
                continue
            # the first part under results/benchmarks names the rule (benchmarks/job_times.py)
            assert rule["benchmark"], name
            assert rule["benchmark"].split("/")[:3] in (["results", "benchmarks", name],
                                                        ["results", "benchmarks", f"{name}.tsv"]), rule


def test_only_resuming_training_is_retried(default):
    assert {name for name, rule in default.items() if rule["retries"]} == {"train_onpolicy"}


def test_summaries_and_downloads_run_where_snakemake_runs(default, paper):
    assert {name for name, rule in default.items() if rule["local"]} == LOCAL_RULES - {"fetch_model"}
    assert {name for name, rule in paper.items() if rule["local"]} == LOCAL_RULES - {"corpus"}


def test_planning_the_default_study_imports_no_torch(tmp_path):
    # a dry run, as `snakemake -n` makes it, then the modules it loaded on the way
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print('MODULES', json.dumps(sorted(sys.modules))))\n"
             "from snakemake.cli import main\n"
             f"main(['-s', {str(ROOT / 'Snakefile')!r}, '-d', {str(tmp_path)!r}, '-n', '--cores', '1'])\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "rule train_onpolicy:" in run.stdout  # the probe planned the study
    modules = json.loads(run.stdout.rpartition("MODULES ")[2])
    assert "selfdistill.config" in modules
    assert not {m.split(".")[0] for m in modules} & HEAVY


def test_every_job_records_the_rule_that_ran_it(tmp_path):
    # the stage's provenance record names the rule; several rules run the sample stage
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path),
                          "-n", "-p", "--cores", "1", "--configfile", str(TEST_CONFIG)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    jobs = re.findall(r"^rule (\w+):\n(?:.*\n)*?Shell command: .*?-m selfdistill\.stages\.\w+ --rule (\w+) ",
                      run.stdout, flags=re.M)
    assert len(jobs) == run.stdout.count("Shell command: ") - 1 == 61  # all of them but `all`
    assert all(rule == named for rule, named in jobs), [job for job in jobs if job[0] != job[1]]
    assert {"evaluate_base", "teacher_traces", "evaluate_cell_sdpo_s"} <= {rule for rule, _ in jobs}
