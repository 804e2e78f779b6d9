"""Bad input files stop a stage with a message naming the file, the row and the value."""
import json
import shutil

import pytest
from conftest import ROOT, snakemake

from selfdistill.data.problems import read_problems
from selfdistill.decoding.sampling import check_prompt_lengths
from selfdistill.io import plain_modes, read_jsonl, write_jsonl
from selfdistill.models.tokenizer import build_tokenizer

ROWS = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(i + 2)} for i in range(3)]


def test_a_truncated_jsonl_file_is_named_with_its_line(tmp_path):
    path = tmp_path / "train.jsonl"
    write_jsonl(path, ROWS)
    path.write_text(path.read_text()[:-30])  # a job killed while writing, without the atomic rename
    with pytest.raises(ValueError) as info:
        read_jsonl(path)
    assert f"{path}, line 3: not valid JSON" in str(info.value)


@pytest.mark.parametrize("world,answer,needle", [
    ("arith", "3.5", "'3.5' is not an integer"),
    ("arith", "", "'' is not an integer"),
    ("arith", "abc", "'abc' is not an integer"),
    ("arith", None, "None is null"),
    ("math", "  ", "'  ' is empty"),
    ("math", None, "None is null"),
])
def test_an_answer_the_world_cannot_grade_is_named(tmp_path, world, answer, needle):
    path = tmp_path / "ood.jsonl"
    write_jsonl(path, [*ROWS[:1], {**ROWS[1], "answer": answer}, *ROWS[2:]])
    with pytest.raises(ValueError) as info:
        read_problems(path, world)
    assert f"{path}, row 2 (problem_id 'p1'): answer {needle}" in str(info.value)


def test_a_row_without_an_answer_is_named(tmp_path):
    path = tmp_path / "ood.jsonl"
    write_jsonl(path, [{"problem_id": "p0", "prompt": "x"}])
    with pytest.raises(ValueError, match="ood.jsonl, row 1: missing answer"):
        read_problems(path, "arith")


def test_good_rows_are_read(tmp_path):
    write_jsonl(tmp_path / "arith.jsonl", [*ROWS, {**ROWS[0], "answer": 7}])
    assert read_problems(tmp_path / "arith.jsonl", "arith")[-1]["answer"] == 7
    write_jsonl(tmp_path / "math.jsonl", [{"problem_id": "m", "prompt": "1/2?", "answer": "\\frac{1}{2}"}])
    assert read_problems(tmp_path / "math.jsonl", "math")[0]["answer"] == "\\frac{1}{2}"


def test_a_prompt_longer_than_the_model_is_named(tmp_path):
    long = {"problem_id": "long", "prompt": " ".join(["Add 2."] * 400), "answer": "4"}
    tokenizer = build_tokenizer([r["prompt"] for r in [*ROWS, long]])
    check_prompt_lengths(ROWS, "p.jsonl", tokenizer, 64)
    with pytest.raises(ValueError) as info:
        check_prompt_lengths([*ROWS, long], "p.jsonl", tokenizer, 64)
    assert "p.jsonl, row 4 (problem_id 'long'): the prompt has" in str(info.value)
    assert f"({len(long['prompt'])} characters), more than the model's 64 positions" in str(info.value)


def test_outputs_get_the_mode_of_any_new_file(tmp_path):
    weights = tmp_path / "model/model.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"x")
    weights.chmod(0o600)
    plain_modes(tmp_path / "model")
    (tmp_path / "other").write_text("x")
    assert weights.stat().st_mode & 0o777 == (tmp_path / "other").stat().st_mode & 0o777


def test_no_output_of_a_run_is_private(test_run):
    modes = {p.stat().st_mode & 0o777 for p in (test_run / "results").rglob("*") if p.is_file()}
    assert len(modes) == 1 and modes.pop() & 0o044, modes


def test_unlock_needs_no_core_count(tmp_path):
    run = snakemake(tmp_path, "--unlock")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Unlocked working directory" in run.stdout + run.stderr


def test_the_stage_names_a_bad_row_before_sampling(test_run, tmp_path):
    bad = tmp_path / "ood.jsonl"
    write_jsonl(bad, [{**r, "answer": "3.5"} for r in read_jsonl(test_run / "results/base0/world/ood.jsonl")[:2]])
    from selfdistill.stages import sample

    params = {"world": "arith", "backend": "hf", "batch_size": 4, "shard_batches": 1,
              "sampling": {"n": 1, "temperature": 1.0, "top_p": 1.0, "max_new_tokens": 4, "seed": 0}}
    with pytest.raises(ValueError, match=f"{bad}, row 1 .*answer '3.5' is not an integer"):
        sample.main(["--params", json.dumps(params), "--in", f"model={test_run / 'results/base0/base_model'}",
                     f"prompts={bad}", "--out", f"samples={tmp_path / 's.jsonl'}", f"metrics={tmp_path / 'm.json'}"])


def test_a_broken_default_config_is_named_with_its_line(tmp_path):
    shutil.copy(ROOT / "Snakefile", tmp_path)
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    default = tmp_path / "config/config.yaml"
    default.write_text(default.read_text().replace("seed: 0", "seed: [0", 1))
    run = snakemake(tmp_path, "-n", "--cores", "1", snakefile=tmp_path / "Snakefile")
    assert run.returncode != 0
    assert f"config file {default}: not valid YAML at line" in run.stdout + run.stderr
