"""GPU timings for the cost estimates in the README, from one run on one H100 or H200.

    python benchmarks/gpu_bench.py [--out DIR] [--parts pipeline generate sdpo] [--models qwen3-1.7b qwen3-8b]

pipeline  the arithmetic world's base model and its evaluations on config/test.yaml, as the
          workflow runs them (Snakemake jobs `python -m selfdistill.stages...`, each on a GPU it
          claims through selfdistill.training.gpus), timed from each output's provenance record
generate  completion tokens per second of the project's HFGenerator (static KV cache, finished
          rows dropped every 32 steps), of plain model.generate on the same model and prompts,
          their ratio, and, where vllm is importable, of VLLMGenerator, at batch 1, 64 and 256
          with a 128-token prompt and 256 new tokens (the shapes of the measurements in
          shared/docs/STUDY.md)
sdpo      seconds per SDPO optimizer step as train_onpolicy runs it in one process (float32,
          TRL's SDPOTrainer from onpolicy.training_args): 64 completions of 512 tokens in passes
          of 8, top-100 distillation; a coin-flip reward makes about half the rollouts correct,
          so the teacher is scored as in real training

Models are Qwen3-1.7B and Qwen3-8B at their published sizes with random weights (built here
from transformers' Qwen3Config, nothing downloaded) and a word-level tokenizer of Qwen3's
vocabulary size. A random model rarely samples its eos, so completions run to full length.
`--tiny` shrinks every shape so the script runs on a CPU in seconds: a check of the script, not
a measurement. Results go to DIR/gpu_bench.json (DIR: --out, else $OUT, else the current
folder), rewritten after every measurement so a cut-short run keeps what it finished; a
measurement that fails (out of memory, say) records its error and the run goes on.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))  # the checkout's selfdistill, as the workflow's jobs import it

import torch  # noqa: E402
import yaml  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # noqa: E402
from transformers import (AutoModelForCausalLM, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM,  # noqa: E402
                          TrainerCallback)

from selfdistill.decoding.generation import HFGenerator, SamplingParams, load_generator, render_chat  # noqa: E402
from selfdistill.models.tokenizer import CHAT_TEMPLATE  # noqa: E402
from selfdistill.training.onpolicy import prompt_dataset, training_args  # noqa: E402

# sizes from the models' published config.json files; the weights are random
SHAPES = {
    "qwen3-1.7b": dict(hidden_size=2048, intermediate_size=6144, num_hidden_layers=28, num_attention_heads=16,
                       num_key_value_heads=8, head_dim=128, tie_word_embeddings=True),
    "qwen3-8b": dict(hidden_size=4096, intermediate_size=12288, num_hidden_layers=36, num_attention_heads=32,
                     num_key_value_heads=8, head_dim=128, tie_word_embeddings=False),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=16, tie_word_embeddings=True),
}
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]


@dataclass(frozen=True)
class Sizes:
    vocab: int
    prompt_words: int  # words of random text per prompt (about that many tokens)
    new_tokens: int
    batches: tuple[int, ...]
    sdpo_completions: int  # per optimizer step
    sdpo_micro_batch: int  # completions per forward and backward pass (gradient accumulation)
    sdpo_generations: int  # per prompt
    sdpo_length: int  # completion tokens
    sdpo_topk: int
    sdpo_steps: int  # the first is a warm-up, reported apart


REAL = Sizes(vocab=151936, prompt_words=110, new_tokens=256, batches=(1, 64, 256), sdpo_completions=64,
             sdpo_micro_batch=8, sdpo_generations=8, sdpo_length=512, sdpo_topk=100, sdpo_steps=4)
TINY = Sizes(vocab=512, prompt_words=12, new_tokens=16, batches=(1, 4), sdpo_completions=8, sdpo_micro_batch=4,
             sdpo_generations=4, sdpo_length=16, sdpo_topk=20, sdpo_steps=2)


def random_tokenizer(vocab_size: int) -> PreTrainedTokenizerFast:
    """Word-level, `vocab_size` entries: prompts encode to known lengths and decoding costs what a
    real vocabulary's does."""
    words = [f"w{i}" for i in range(vocab_size - len(SPECIALS))]
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(SPECIALS + words)}, unk_token=SPECIALS[0]))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece()  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=SPECIALS[0], unk_token=SPECIALS[0],
                                   bos_token=SPECIALS[1], eos_token=SPECIALS[2], additional_special_tokens=SPECIALS[3:],
                                   chat_template=CHAT_TEMPLATE)


def save_random_model(shape: str, sizes: Sizes, folder: Path, device: str) -> int:
    """A random Qwen3 of `shape` and its tokenizer, saved as a Hugging Face folder (bfloat16 when
    built on a GPU); returns the parameter count."""
    tokenizer = random_tokenizer(sizes.vocab)
    config = Qwen3Config(vocab_size=sizes.vocab, max_position_embeddings=40960, rms_norm_eps=1e-6,
                         rope_parameters={"rope_type": "default", "rope_theta": 1e6},
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, **SHAPES[shape])
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build in the final dtype: an 8B model in float32 is 32 GB
    try:
        with torch.device(device):
            model = Qwen3ForCausalLM(config)
    finally:
        torch.set_default_dtype(default)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    count = model.num_parameters()
    del model
    free_memory()
    return count


def prompts(tokenizer, count: int, sizes: Sizes, seed: int = 0) -> list[str]:
    """Chat-rendered prompts of random words, each different."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(sizes.vocab - len(SPECIALS))]
    return [render_chat(tokenizer, " ".join(rng.choices(words, k=sizes.prompt_words))) for _ in range(count)]


def free_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def rate(tokens: int, seconds: float, **extra) -> dict:
    return {**extra, "tokens": tokens, "seconds": round(seconds, 3), "tokens_per_s": round(tokens / seconds, 1)}


def time_generator(gen, texts: list[str], sizes: Sizes) -> list[dict]:
    """Tokens/s of a Generator at each batch size, one batch of distinct prompts each."""
    gen.generate(texts[:1], SamplingParams(max_new_tokens=4))  # warm-up: kernels, allocator
    out = []
    for batch in sizes.batches:
        params = SamplingParams(n=1, temperature=1.0, max_new_tokens=sizes.new_tokens, seed=batch)
        started = time.perf_counter()
        result = gen.generate(texts[:batch], params)
        out.append(rate(sum(c.num_tokens for row in result for c in row), time.perf_counter() - started, batch=batch))
    return out


def time_hf(model_dir: Path, sizes: Sizes) -> dict:
    """HFGenerator and plain model.generate on the same model and prompts, one after the other at
    each batch size, and the ratio of their tokens/s."""
    gen = HFGenerator(str(model_dir), batch_size=max(sizes.batches))
    texts = prompts(gen.tokenizer, max(sizes.batches), sizes)
    fast = time_generator(gen, texts, sizes)
    gen.plain = True  # the same model, prompts and sampling through one model.generate call per batch
    plain = time_generator(gen, texts, sizes)
    ratios = [{"batch": f["batch"], "generator_over_plain": round(f["tokens_per_s"] / p["tokens_per_s"], 2)}
              for f, p in zip(fast, plain)]
    for f, p, r in zip(fast, plain, ratios):
        print(f"{model_dir.name} batch {f['batch']}: HFGenerator {f['tokens_per_s']} tok/s, plain generate "
              f"{p['tokens_per_s']} tok/s, ratio {r['generator_over_plain']}", flush=True)
    return {"generator": fast, "plain_generate": plain, "ratio": ratios}


def time_vllm(model_dir: Path, sizes: Sizes) -> dict:
    if importlib.util.find_spec("vllm") is None:
        return {"skipped": "vllm is not installed"}
    started = time.perf_counter()
    gen = load_generator(str(model_dir), "vllm", batch_size=max(sizes.batches), gpu_memory_utilization=0.85,
                         max_model_len=2 * sizes.prompt_words + sizes.new_tokens + 64)
    startup = round(time.perf_counter() - started, 1)
    texts = prompts(gen.tokenizer, max(sizes.batches), sizes)
    return {"startup_seconds": startup, "generator": time_generator(gen, texts, sizes)}


class StepTimer(TrainerCallback):
    def __init__(self):
        self.seconds, self._started = [], None

    def on_step_begin(self, args, state, control, **kwargs):
        self._started = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.seconds.append(round(time.perf_counter() - self._started, 3))


def coin_reward(seed: int = 0):
    rng = random.Random(seed)

    def coin(prompts, completions, **kwargs) -> list[float]:
        return [float(rng.random() < 0.5) for _ in completions]

    return coin


def time_sdpo(model_dir: Path, params: int, sizes: Sizes, scratch: Path) -> dict:
    # float32 weights, gradients, two Adam moments and the frozen teacher: 20 bytes a parameter
    need = 20 * params
    if torch.cuda.is_available() and need > torch.cuda.get_device_properties(0).total_memory:
        return {"skipped": f"needs over {need / 2**30:.0f} GiB for float32 weights, gradients, Adam state and "
                           "teacher before activations; one process cannot train it on this GPU "
                           "(compute.train with an accelerate config shards it over several)"}
    from trl.experimental.sdpo import SDPOTrainer

    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())["grid"]["train"]["sdpo_s"]
    s = {**default, "batch_size": sizes.sdpo_completions, "micro_batch_size": sizes.sdpo_micro_batch,
         "num_generations": sizes.sdpo_generations,
         "max_completion_length": sizes.sdpo_length, "distillation_topk": sizes.sdpo_topk,
         "max_steps": sizes.sdpo_steps, "warmup_steps": 0, "checkpoint_interval": sizes.sdpo_steps + 1}
    tokenizer = random_tokenizer(sizes.vocab)
    rng = random.Random(1)
    words = [f"w{i}" for i in range(sizes.vocab - len(SPECIALS))]
    rows = [{"prompt": " ".join(rng.choices(words, k=sizes.prompt_words)), "answer": "0"}
            for _ in range(sizes.sdpo_steps * sizes.sdpo_completions // sizes.sdpo_generations)]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)  # as train_onpolicy loads it
    args = training_args("sdpo_s", s, str(scratch), seed=0, use_cpu=not torch.cuda.is_available())
    trainer = SDPOTrainer(model=model, reward_funcs=coin_reward(), args=args, train_dataset=prompt_dataset(rows),
                          processing_class=tokenizer)
    timer = StepTimer()
    trainer.add_callback(timer)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    try:
        trainer.train()
        # what each step did: completion length, and the share of rollouts the teacher scored
        logged = [{k: h.get(k) for k in ("completions/mean_length", "self_distillation/reprompt_sample_fraction")}
                  for h in trainer.state.log_history if "loss" in h]
    finally:
        del trainer, model
        free_memory()
    later = timer.seconds[1:] or timer.seconds
    return {"settings": {k: s[k] for k in ("batch_size", "micro_batch_size", "num_generations", "max_completion_length",
                                           "distillation_topk", "distillation_mode", "teacher_model_kind")},
            "dtype": "float32", "prompt_words": sizes.prompt_words, "step_seconds": timer.seconds,
            "seconds_per_step_after_first": round(sum(later) / len(later), 3), "steps": logged,
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None}


def time_pipeline(work: Path) -> dict:
    """The base model and its evaluations on config/test.yaml, as Snakemake runs them."""
    args = [sys.executable, "-m", "snakemake", "base_summary", "-s", str(ROOT / "Snakefile"), "-d", str(work),
            "--cores", "4", "--configfile", str(ROOT / "config/test.yaml")]
    if torch.cuda.is_available():
        (work / "compute.yaml").parent.mkdir(parents=True, exist_ok=True)
        compute = {"compute": {"pretrain": {"gpus": 1}, "generate": {"gpus": 1}}}
        (work / "compute.yaml").write_text(yaml.safe_dump(compute))
        args += [str(work / "compute.yaml"), "--resources", "gpu=1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "workflow"), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    run = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if run.returncode:
        logs = "\n".join(f"--- {p}\n{p.read_text()[-2000:]}" for p in sorted(work.glob("logs/**/*.log")))
        return {"error": run.stderr[-3000:] + logs[-6000:]}
    jobs = {}  # one per job: every output of a job carries the same record fields
    for record in sorted((work / "results").rglob("*.prov.json")):
        r = json.loads(record.read_text())
        seconds = (datetime.fromisoformat(r["ended"]) - datetime.fromisoformat(r["started"])).total_seconds()
        jobs.setdefault((r["rule"], json.dumps(r["cell"], sort_keys=True)),
                        {"rule": r["rule"], "cell": r["cell"], "gpus": r["device"]["gpus"], "seconds": seconds})
    return {"wall_seconds": round(wall, 1), "jobs": list(jobs.values())}


def environment() -> dict:
    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    cuda = torch.cuda.is_available()
    return {"gpu": torch.cuda.get_device_name(0) if cuda else None,
            "gpu_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1) if cuda else None,
            "cuda": torch.version.cuda, "platform": platform.platform(), "cpus": os.cpu_count(),
            "versions": {n: version(n) for n in ("torch", "transformers", "trl", "accelerate", "vllm")}}


@contextmanager
def recorded(results: dict, path: Path, *keys: str):
    """Stores what the block returns (through the yielded dict) or its error under results[keys],
    then rewrites the JSON."""
    slot = {}
    try:
        yield slot
    except Exception as e:  # noqa: BLE001 - one failed measurement must not lose the others
        slot["value"] = {"error": f"{type(e).__name__}: {e}"[:3000]}
    node = results
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = slot.get("value")
    path.write_text(json.dumps(results, indent=2) + "\n")
    free_memory()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")), help="folder of gpu_bench.json")
    parts = ("pipeline", "generate", "sdpo")
    ap.add_argument("--parts", nargs="+", choices=parts, default=list(parts))
    ap.add_argument("--models", nargs="+", choices=("qwen3-1.7b", "qwen3-8b"), default=["qwen3-1.7b", "qwen3-8b"])
    ap.add_argument("--tiny", action="store_true", help="tiny shapes, for a check of the script on a CPU")
    args = ap.parse_args(argv)
    sizes, names = (TINY, ["tiny"]) if args.tiny else (REAL, args.models)
    if args.tiny:
        torch.set_num_threads(1)  # on tiny matrices more threads only spin against each other
    device = "cuda" if torch.cuda.is_available() else "cpu"
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "gpu_bench.json"
    results = {"environment": environment(), "tiny": args.tiny, "sizes": asdict(sizes)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "pipeline" in args.parts:
            with recorded(results, path, "pipeline") as slot:
                slot["value"] = time_pipeline(tmp / "pipeline")
        model_dirs = {}
        for name in names if {"generate", "sdpo"} & set(args.parts) else []:
            model_dirs[name] = tmp / name
            params = save_random_model(name, sizes, model_dirs[name], device)
            results.setdefault("models", {})[name] = {"parameters": params}
            if "generate" in args.parts:
                with recorded(results, path, "generate", name, "hf") as slot:
                    slot["value"] = time_hf(model_dirs[name], sizes)
            if "sdpo" in args.parts:
                with recorded(results, path, "sdpo", name) as slot:
                    slot["value"] = time_sdpo(model_dirs[name], params, sizes, tmp / f"{name}-sdpo")
        # vLLM last: it reserves most of the GPU's memory, and an engine may not hand all of it back
        for name in model_dirs if "generate" in args.parts else []:
            with recorded(results, path, "generate", name, "vllm") as slot:
                slot["value"] = time_vllm(model_dirs[name], sizes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
