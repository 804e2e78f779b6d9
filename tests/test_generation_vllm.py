"""The vLLM backend against a stand-in `vllm` module, and the CPU paths' independence from vllm."""
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from test_generation import make_model_dir, make_tokenizer

from selfdistill.decoding.generation import Completion, SamplingParams, banned_token_sequences, load_generator, render_chat
from selfdistill.decoding.generation_vllm import VLLMGenerator, vllm_bans
from selfdistill.decoding.streams import stream_seed

ROOT = Path(__file__).resolve().parents[1]


class FakeLLM:
    """Records what VLLMGenerator asks of vllm.LLM and answers each request by its position:
    even requests stop on eos after two tokens, odd ones run to max_tokens."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.calls = []
        tok = make_tokenizer()
        self.finished_ids = tok.convert_tokens_to_ids(["<think>", " Wait", "<|im_end|>"])
        self.filler_id = tok.convert_tokens_to_ids(" so")

    def generate(self, requests, sampling_params, use_tqdm):
        self.calls.append((requests, sampling_params))
        outputs = []
        for k, params in enumerate(sampling_params):
            ids, reason = ((self.finished_ids, "stop") if k % 2 == 0
                           else ([self.filler_id] * params.kwargs["max_tokens"], "length"))
            # token_ids as vLLM hands them out: an array-like, not a list
            outputs.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(token_ids=tuple(ids),
                                                                                finish_reason=reason)]))
        return outputs


class FakeSamplingParams:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM, module.SamplingParams = FakeLLM, FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", module)
    return module


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("vllm_model"))


def test_engine_arguments(fake_vllm, model_dir, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    gen = load_generator(model_dir, backend="vllm", batch_size=48)
    assert isinstance(gen, VLLMGenerator)
    assert gen.llm.kwargs == {"model": model_dir, "dtype": "bfloat16", "tensor_parallel_size": 2,
                              "gpu_memory_utilization": 0.9, "max_model_len": None, "max_num_seqs": 48,
                              "generation_config": "vllm"}
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    gen = VLLMGenerator(model_dir, dtype="float16", tensor_parallel_size=4, max_model_len=2048)
    assert gen.llm.kwargs["dtype"] == "float16" and gen.llm.kwargs["tensor_parallel_size"] == 4
    assert gen.llm.kwargs["max_model_len"] == 2048


def test_requests_are_token_ids_one_seeded_request_per_completion(fake_vllm, model_dir):
    gen = VLLMGenerator(model_dir)
    tok = gen.tokenizer
    prompts = [render_chat(tok, "What is 1+2?"), render_chat(tok, "Hmm.")]
    gen.generate(prompts, SamplingParams(n=3, temperature=0.6, top_p=0.95, max_new_tokens=7, seed=10), keys=["a", "b"])
    [(requests, sampling)] = gen.llm.calls
    ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    assert requests == [{"prompt_token_ids": ids[0]}] * 3 + [{"prompt_token_ids": ids[1]}] * 3
    eos = tok.convert_tokens_to_ids("<|im_end|>")
    assert [s.kwargs for s in sampling] == [
        {"n": 1, "seed": stream_seed(10, key, j), "temperature": 0.6, "top_p": 0.95, "max_tokens": 7,
         "stop_token_ids": [eos], "detokenize": False} for key in "ab" for j in range(3)]
    # the seeds the Hugging Face backend's streams take too, so a problem's draws follow its id
    assert len({s.kwargs["seed"] for s in sampling}) == 6


def test_top_k_reaches_vllm_when_set(fake_vllm, model_dir):
    gen = VLLMGenerator(model_dir)
    gen.generate([render_chat(gen.tokenizer, "Hmm.")], SamplingParams(temperature=0.6, top_k=20, max_new_tokens=3))
    [(_, [sampling])] = gen.llm.calls
    assert sampling.kwargs["top_k"] == 20


def test_completions_map_in_order(fake_vllm, model_dir):
    gen = VLLMGenerator(model_dir)
    prompts = [render_chat(gen.tokenizer, p) for p in ("What is 1+2?", "Hmm.")]
    result = gen.generate(prompts, SamplingParams(n=2, max_new_tokens=4))
    stopped = Completion(text="<think> Wait", num_tokens=3, finished=True)
    cut = Completion(text=" so" * 4, num_tokens=4, finished=False)
    assert result == [[stopped, cut], [stopped, cut]]


def test_banned_words_reach_vllm(fake_vllm, model_dir):
    gen = VLLMGenerator(model_dir)
    gen.generate([render_chat(gen.tokenizer, "Hmm.")], SamplingParams(banned_words=("wait", "12")))
    [(_, [params])] = gen.llm.calls
    assert params.kwargs["bad_words"] == ["wait", "Wait", "WAIT", "12"]
    tok = gen.tokenizer
    # every one-token spelling of "wait" with and without its space; "12" is two digit tokens
    single = tok.convert_tokens_to_ids(["wait", " wait", "Wait", " Wait", "WAIT", " WAIT"])
    assert params.kwargs["logit_bias"] == {t: float("-inf") for t in sorted(single)}


def test_vllm_bans_cover_every_one_token_sequence_the_hf_backend_bans():
    tok = make_tokenizer()
    words = ("hmm", "check", "answer")
    bans = vllm_bans(tok, words)
    expected = {s[0] for s in banned_token_sequences(tok, words) if len(s) == 1}
    assert set(bans["logit_bias"]) == expected and len(expected) == 18
    assert vllm_bans(tok, ()) == {}


def test_invalid_settings_are_named(fake_vllm, model_dir):
    with pytest.raises(ValueError, match="dtype='int8'"):
        VLLMGenerator(model_dir, dtype="int8")
    with pytest.raises(ValueError, match="gpu_memory_utilization=1.5"):
        VLLMGenerator(model_dir, gpu_memory_utilization=1.5)


def test_stages_and_the_hf_path_never_import_vllm(tmp_path):
    # an importable `vllm` on the path: any import of it would land in sys.modules
    (tmp_path / "vllm").mkdir()
    (tmp_path / "vllm" / "__init__.py").write_text("")
    script = textwrap.dedent(f"""
        import importlib, importlib.util, pkgutil, sys
        sys.path[:0] = [{str(tmp_path)!r}, {str(ROOT / "tests")!r}]
        import selfdistill.stages
        for m in pkgutil.iter_modules(selfdistill.stages.__path__):
            importlib.import_module("selfdistill.stages." + m.name)
        from selfdistill.decoding.generation import SamplingParams, load_generator, render_chat
        from test_generation import make_model_dir
        gen = load_generator(make_model_dir({str(tmp_path / "model")!r}), "hf", device="cpu")
        [[c]] = gen.generate([render_chat(gen.tokenizer, "Hmm.")], SamplingParams(max_new_tokens=3))
        assert importlib.util.find_spec("vllm") is not None
        print("vllm" in sys.modules)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "False"
