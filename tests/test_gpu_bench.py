"""benchmarks/gpu_bench.py in its tiny mode: every generation and SDPO measurement runs and is
written, on a CPU, in seconds."""
import json
import subprocess
import sys

from conftest import ROOT


def test_tiny_bench_measures_generation_and_sdpo(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks/gpu_bench.py"), "--tiny", "--parts", "generate", "sdpo",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_bench.json").read_text())
    assert result["tiny"] and result["environment"]["versions"]["torch"]
    hf = result["generate"]["tiny"]["hf"]
    for kind in ("generator", "plain_generate"):
        assert [r["batch"] for r in hf[kind]] == [1, 4], kind
        # a random model over 512 tokens seldom ends early: close to batch x 16 new tokens
        assert all(0 < r["tokens"] <= 16 * r["batch"] and r["tokens_per_s"] > 0 for r in hf[kind]), hf[kind]
    assert [r["batch"] for r in hf["ratio"]] == [1, 4] and all(r["generator_over_plain"] > 0 for r in hf["ratio"])
    vllm = result["generate"]["tiny"]["vllm"]
    assert "skipped" in vllm or vllm["generator"][0]["tokens"] > 0
    sdpo = result["sdpo"]["tiny"]
    assert (sdpo["settings"]["batch_size"], sdpo["settings"]["micro_batch_size"]) == (8, 4)
    assert len(sdpo["step_seconds"]) == 2
    assert sdpo["seconds_per_step_after_first"] > 0 and len(sdpo["steps"]) == 2
    assert all(0 < s["completions/mean_length"] <= 16 for s in sdpo["steps"])
