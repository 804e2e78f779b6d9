"""The vLLM backend beside generation.py's Hugging Face one: the same Generator on a GPU inference engine.

Only `load_generator(..., backend="vllm")` imports this module, and vllm itself is imported when
a VLLMGenerator is built, so CPU-only runs never need vllm installed.
"""
from __future__ import annotations

import os

from transformers import AutoConfig, AutoTokenizer, GenerationConfig

from selfdistill.decoding.interface import DTYPES, Completion, Detokenizer, SamplingParams, banned_token_sequences
from selfdistill.decoding.streams import stream_seeds


def generation_config(model_dir: str) -> GenerationConfig:
    """The checkpoint's generation config, or the one its model config implies where it has none
    (what from_pretrained gives a model), so both backends stop on the same eos ids."""
    try:
        return GenerationConfig.from_pretrained(model_dir)
    except OSError:
        return GenerationConfig.from_model_config(AutoConfig.from_pretrained(model_dir))


def visible_gpu_count() -> int:
    """GPUs this process was given (CUDA_VISIBLE_DEVICES, as selfdistill.training.gpus or SLURM set it)."""
    devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return max(1, len([d for d in devices.split(",") if d.strip()]))


def vllm_bans(tokenizer, words) -> dict:
    """SamplingParams arguments that ban what banned_token_sequences bans under the hf backend.

    vLLM's `bad_words` tokenizes each given spelling itself, and adds its leading-space form only
    when that has as many tokens as the bare one: " alternatively" (one token in many BPE
    vocabularies, "altern"+"atively" bare) would stay allowed. Every one-token sequence therefore
    also gets a logit bias of -inf, which bans it at every position, as the hf backend does. Left
    allowed: multi-token leading-space spellings whose bare form has another length.
    """
    if not words:
        return {}
    spellings = list(dict.fromkeys(v for w in words for v in (w.lower(), w.capitalize(), w.upper())))
    single = sorted({ids[0] for ids in banned_token_sequences(tokenizer, words) if len(ids) == 1})
    return {"bad_words": spellings, "logit_bias": {t: float("-inf") for t in single}}


class VLLMGenerator:
    """Sampling with vllm.LLM; the engine batches and schedules requests itself.

    Every completion is its own request, seeded with its stream's seed (decoding/streams.py), and
    vLLM draws a seeded request's tokens from its own generator, so outputs do not depend on which
    requests share a batch, as on the hf backend.
    """

    def __init__(self, model_dir: str, batch_size: int = 256, dtype: str = "auto",
                 gpu_memory_utilization: float = 0.9, tensor_parallel_size: int | None = None,
                 max_model_len: int | None = None):
        if dtype != "auto" and dtype not in DTYPES:
            raise ValueError(f"dtype={dtype!r}: valid are 'auto', {', '.join(map(repr, DTYPES))}")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be >= 1")
        if not 0 < gpu_memory_utilization <= 1:
            raise ValueError(f"gpu_memory_utilization={gpu_memory_utilization}: must be in (0, 1]")
        import vllm

        self.vllm = vllm
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.detokenizer = Detokenizer(self.tokenizer, generation_config(model_dir))
        self.llm = vllm.LLM(
            model=model_dir,
            # "auto" means bfloat16, as on the hf backend; vLLM's own "auto" may run a float32
            # checkpoint in float16
            dtype="bfloat16" if dtype == "auto" else dtype,
            # by default the model spans every GPU this job was given
            tensor_parallel_size=tensor_parallel_size or visible_gpu_count(),
            gpu_memory_utilization=gpu_memory_utilization,
            max_model_len=max_model_len,
            # batch_size keeps its meaning: completions generated together
            max_num_seqs=batch_size,
            # sampling follows SamplingParams alone, as on the hf backend, never the
            # checkpoint's generation_config defaults (Qwen3 ships top_k=20)
            generation_config="vllm",
        )

    def generate(self, prompts: list[str], params: SamplingParams, keys: list | None = None) -> list[list[Completion]]:
        # prompts are fully rendered, so the chat template already placed any bos; passing ids
        # keeps vLLM from adding another
        prompt_ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        requests = [{"prompt_token_ids": ids} for ids in prompt_ids for _ in range(params.n)]
        bans = vllm_bans(self.tokenizer, params.banned_words)
        sampling = [self.vllm.SamplingParams(
            n=1, seed=seed, temperature=params.temperature, top_p=params.top_p,
            max_tokens=params.max_new_tokens, stop_token_ids=self.detokenizer.eos_ids,
            **({"top_k": params.top_k} if params.top_k else {}),
            # text comes from the token ids through the Detokenizer, as on the hf backend
            detokenize=False, **bans) for seed in stream_seeds(params.seed, keys, len(prompts), params.n)]
        outputs = self.llm.generate(requests, sampling_params=sampling, use_tqdm=True)
        completions = [self._completion(out.outputs[0]) for out in outputs]
        n = params.n
        return [completions[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _completion(self, output) -> Completion:
        # vLLM's token ids end with the eos that stopped them, so they count as the hf backend's
        ids = list(output.token_ids)
        return Completion(text=self.detokenizer.text(ids), num_tokens=len(ids), finished=output.finish_reason == "stop")
