import copy
from pathlib import Path

import pytest
import yaml

from selfdistill.config import ConfigError, read_config_file, validate_config

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def merged(override: dict) -> dict:
    def merge(a, b):
        return {k: merge(a[k], v) if isinstance(v, dict) and k in a else v for k, v in {**a, **b}.items()}
    return merge(copy.deepcopy(DEFAULT), override)


# every pipeline config; config/accelerate holds accelerate's own files
PIPELINE_CONFIGS = sorted(str(p.relative_to(ROOT / "config")) for p in (ROOT / "config").rglob("*.yaml")
                          if "accelerate" not in p.parts)


@pytest.mark.parametrize("name", PIPELINE_CONFIGS)
def test_shipped_configs_are_valid(name):
    override = yaml.safe_load((ROOT / "config" / name).read_text())
    validate_config(merged(override))


# every way a config went wrong for a new user, each stopped before any job by a message naming
# the file, key or value and what is valid; a string is the config file's text as written
BAD_CONFIGS = [
    ({"arith": {"sed": 1}}, ["arith", "'sed' was unexpected", "allowed keys here", "errors"]),
    ({"arith": {"train_size": "zero"}}, ["arith.train_size", "'zero' is not of type 'integer'"]),
    # the world's, the base model's and the evaluations' seeds are one base model's entry in `bases`
    ({"arith": {"seed": 1}}, ["arith", "'seed' was unexpected", "seed here is set by `bases`"]),
    ({"grid": {"offpolicy": {"sampling": {"seed": 1}}}},
     ["grid.offpolicy.sampling", "'seed' was unexpected", "set by `bases`"]),
    ({"bases": [0, 0]}, ["bases", "non-unique"]),
    ({"bases": []}, ["bases", "should be non-empty"]),
    ({"evaluation": {"sampling": {"top_p": 1.5}}}, ["evaluation.sampling.top_p", "1.5", "maximum of 1"]),
    ({"backend": "tpu"}, ["backend", "'tpu'", "'hf', 'vllm'"]),
    ({"section3": {"pass_rate": [0.6, 0.2]}}, ["section3.pass_rate", "exceeds"]),
    ({"base_model": {"arch": {"num_heads": 3}}}, ["base_model.arch.num_heads", "does not divide"]),
    ({"grid": {"methods": ["sdpo"]}}, ["grid.methods.0", "'sdpo'", "'sdpo_s_nothink'"]),
    ({"grid": {"coverage": ["32"]}}, ["grid.coverage.0", "'32'", "'1x64'"]),
    ({"grid": {"train": {"grpo": {"batch_size": 12}}}}, ["grid.train.grpo.batch_size", "12", "num_generations=8"]),
    ({"grid": {"train": {"grpo": {"distillation_topk": 5}}}}, ["grid.train.grpo", "'distillation_topk' was unexpected"]),
    ({"grid": {"train": {"sdpo_s": {"teacher_model_kind": "frozen"}}}}, ["grid.train.sdpo_s.teacher_model_kind", "'ema'"]),
    ({"grid": {"train": {"grpo": {"vllm": {"gpu_memory_utilization": 1.5}}}}},
     ["grid.train.grpo.vllm.gpu_memory_utilization", "1.5", "maximum of 1"]),
    ({"grid": {"train": {"sdpo_s": {"vllm": {"mode": "server"}}}}},
     ["grid.train.sdpo_s.vllm", "'gpu_memory_utilization' is a required property", "'mode' was unexpected"]),
    ({"grid": {"train": {"sft_sg": {"micro_batch_size": 0}}}}, ["grid.train.sft_sg.micro_batch_size", "minimum of 1"]),
    ({"grid": {"train": {"grpo": {"optimizer_steps_per_generation": 3}}}},
     ["grid.train.grpo.max_steps and checkpoint_interval", "optimizer_steps_per_generation=3"]),
    ({"grid": {"train": {"grpo": {"loss_type": "gspo"}}}}, ["grid.train.grpo.loss_type", "'gspo'", "'grpo'"]),
    ({"grid": {"train": {"sdpo_s": {"max_teacher_prompt_length": 0}}}},
     ["grid.train.sdpo_s.max_teacher_prompt_length", "minimum of 1"]),
    ({"compute": {"gpu": {"gpus": 1}}}, ["compute", "'gpu' was unexpected", "generate, pretrain, train"]),
    ({"compute": {"generate": {"accelerate_config": "config/accelerate/fsdp.yaml"}}},
     ["compute.generate", "'accelerate_config' was unexpected"]),
    ({"compute": {"train": {"accelerate_config": "config/accelerate/fsdp.yaml"}}},
     ["compute.train", "'gpus' is a dependency of 'accelerate_config'"]),
    ({"compute": {"train": {"gpus": 3, "accelerate_config": "config/accelerate/fsdp.yaml"}}},
     ["grid.train.sft_ug.batch_size: 8 does not split evenly over compute.train.gpus=3", "grid.train.grpo.batch_size: 32"]),
    ({"compute": {"train": {"processes": 0}}}, ["compute.train.processes", "minimum of 1"]),
    ({"compute": {"train": {"processes": 1.5}}}, ["compute.train.processes", "not of type 'integer'"]),
    ({"compute": {"generate": {"processes": 2}}}, ["compute.generate", "'processes' was unexpected"]),
    ({"compute": {"train": {"processes": 3}}},
     ["grid.train.sft_ug.batch_size: 8 does not split evenly over compute.train.processes=3", "grid.train.grpo.batch_size: 32"]),
    ({"compute": {"train": {"gpus": 2, "processes": 2}}}, ["compute.train.processes", "gpus=2", "one process per GPU"]),
    ({"world": "maths"}, ["world", "'maths'", "'arith', 'math'"]),
    ({"world": "math"}, ["model.name", "built_in", "needs a pretrained model"]),
    ({"math": {"ood": ["aime24", "gsm8k"]}}, ["math.ood", "['gsm8k']", "aime24, aime25, amc23, math500", "math.benchmarks"]),
    ({"math": {"coverage_files": {"32": {"source": "x.parquet"}}}}, ["math.coverage_files", "'32'"]),
    ({"math": {"pool": {"source": "x.parquet", "sha256": "abc"}}}, ["math.pool.sha256", "'abc' does not match"]),
    ({"math": {"coverage_files": {"64": {"source": "x.parquet", "limit": 3}}}}, ["math.coverage_files.64", "'limit' was unexpected"]),
    ({"model": {"enable_thinking": "yes"}}, ["model.enable_thinking", "'yes' is not of type"]),
    ({"model": {"dtype": "int8"}}, ["model.dtype", "'int8'", "'bfloat16'"]),
    ({"model": {"name": "./models/missing"}}, ["model.name", "'./models/missing'", "does not exist", "owner/name"]),
    ({"model": {"name": "/no/such/models/qwen"}}, ["model.name", "'/no/such/models/qwen'", "does not exist"]),
    ("arith:\n  errors: [1\n", ["bad.yaml", "not valid YAML at line 3"]),
    ("grid:\n\tseeds: [0]\n", ["bad.yaml", "line 2, column 1", "'\\t'"]),
    ("", ["bad.yaml", "is empty", "mapping of config keys"]),
    ("- grid\n", ["bad.yaml", "top level is a list"]),
    ({"grid": {"train": {"sdpo_s": {"lr": 0.1}}}},
     ["grid.train.sdpo_s", "'lr' was unexpected", "allowed keys here", "learning_rate", "distillation_alpha"]),
    ({"arith": {"ood_size": 100000000}}, ["arith.ood_size", "100000000", "split 'ood' owns 10% of the 705722"]),
    ({"arith": {"heldout_size": 10000}}, ["arith.heldout_size", "10000", "split 'in_domain' owns 10% of the 94462"]),
    ("grid:\n  train:\n    grpo: {learning_rate: .nan}\n", ["grid.train.grpo.learning_rate", "nan is not a finite number"]),
    ("evaluation:\n  sampling: {temperature: .inf}\n", ["evaluation.sampling.temperature", "inf is not a finite number"]),
    ("section3:\n  pass_rate: [0.1, -.inf]\n", ["section3.pass_rate.1", "-inf is not a finite number"]),
    ({"arith": {"errors": "slips"}}, ["arith.errors", "'slips'", "'capability', 'style'"]),
    ({"arith": {"capability": {"doubt": 2}}}, ["arith.capability.doubt", "2 is greater than the maximum of 1"]),
    ({"arith": {"train_size": 100}}, ["arith.train_size", "100", "coverage level '128'", "needs 128"]),
]


@pytest.mark.parametrize("override,needles", BAD_CONFIGS)
def test_bad_configs_are_named(tmp_path, override, needles):
    bad = tmp_path / "bad.yaml"
    bad.write_text(override if isinstance(override, str) else yaml.safe_dump(override))
    with pytest.raises(ConfigError) as info:
        validate_config(merged(read_config_file(bad)), root=ROOT)
    for needle in needles:
        assert needle in str(info.value)


def test_the_bad_config_table_is_whole():
    assert len(BAD_CONFIGS) >= 30


def test_a_bad_method_setting_is_reported_alone():
    # a failing part of the schema leaves every key of the object unevaluated; that is no error
    with pytest.raises(ConfigError) as info:
        validate_config(merged({"grid": {"train": {"sdpo_s": {"max_steps": 0}}}}))
    assert "grid.train.sdpo_s.max_steps: 0 is less than the minimum of 1" in str(info.value)
    assert str(info.value).count("\n") == 1, str(info.value)


def test_a_local_model_folder_that_exists_is_valid(tmp_path):
    (tmp_path / "models/tiny").mkdir(parents=True)
    validate_config(merged({"model": {"name": "./models/tiny"}}), root=tmp_path)
    validate_config(merged({"model": {"name": "HuggingFaceTB/SmolLM2-135M-Instruct"}}), root=tmp_path)
