"""Sampling completions from a causal LM behind one small interface.

Callers depend only on `Generator`, `SamplingParams` and `Completion`, and get an
implementation from `load_generator`, so no caller knows which backend samples. The Hugging
Face backend below is the reference: slow, but it runs anywhere, CPU included; the vLLM one
(generation_vllm.py) needs a GPU. What both share is in interface.py. Its decoding loop,
`decode_segmented`, also decodes the on-policy trainers' rollouts (training/rollouts.py).
"""

import copy
import sys
from contextlib import contextmanager

import torch
import transformers
from tqdm import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList, StaticCache

from selfdistill.decoding.interface import (BACKENDS, DTYPES, Completion, Detokenizer, Generator, SamplingParams,
                                            banned_token_sequences, render_chat)
from selfdistill.decoding.streams import RowStreams, stream_seeds

# generate() takes a ready cache as `cache` from transformers 5.24 on, as `past_key_values` before
CACHE_KWARG = "cache" if tuple(map(int, transformers.__version__.split(".")[:2])) >= (5, 24) else "past_key_values"


class HFGenerator:
    """Batched sampling with transformers' model.generate, on a static KV cache, with finished
    rows leaving their batch every `segment` decoding steps (see decode_segmented).

    Each completion samples from its own random stream (decoding/streams.py), keyed by its
    prompt's key and its repeat index, so batch_size and segment change no draw; they change
    only the float rounding of the logits, through the shape of the batch.
    """

    def __init__(self, model_dir: str, batch_size: int = 64, device: str | None = None,
                 dtype: str = "auto", gguf_file: str | None = None, segment: int = 32, plain: bool = False):
        if dtype != "auto" and dtype not in DTYPES:
            raise ValueError(f"dtype={dtype!r}: valid are 'auto', {', '.join(map(repr, DTYPES))}")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be >= 1")
        if segment < 1:
            raise ValueError(f"segment={segment}: must be >= 1")
        self.batch_size = batch_size
        self.segment = segment
        self.plain = plain  # one default model.generate call per batch: the reference, for tests and benchmarks
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            # bfloat16 halves memory on GPUs; CPUs are slow or inexact in it
            dtype = "bfloat16" if self.device.startswith("cuda") else "float32"

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, gguf_file=gguf_file)
        # decoder-only models continue from the last position, so pad on the left
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=gguf_file, dtype=DTYPES[dtype])
        self.model.to(self.device).eval()
        self.detokenizer = Detokenizer(self.tokenizer, self.model.generation_config)

    @torch.inference_mode()
    def generate(self, prompts: list[str], params: SamplingParams, keys: list | None = None) -> list[list[Completion]]:
        # prompts are fully rendered, so the chat template already placed any bos
        prompt_ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        expanded = [ids for ids in prompt_ids for _ in range(params.n)]
        seeds = stream_seeds(params.seed, keys, len(prompts), params.n)
        # longest first: similar lengths share a batch, so little padding is computed
        order = sorted(range(len(expanded)), key=lambda i: -len(expanded[i]))
        kwargs = generate_kwargs(self.tokenizer, self.detokenizer.eos_ids, params)

        completions = [None] * len(expanded)
        chunks = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        bar = tqdm(chunks, desc="generate", unit="batch", file=sys.stderr)
        done = 0
        for chunk in bar:
            batch = self.tokenizer.pad({"input_ids": [expanded[i] for i in chunk]}, return_tensors="pt")
            batch = batch.to(self.device)
            streams = RowStreams([seeds[i] for i in chunk], params.temperature, params.top_k, params.top_p) \
                if params.temperature > 0 else None
            if self.plain:
                draws = [streams.draws(torch.arange(len(chunk)), params.max_new_tokens)] if streams else []
                out = self.model.generate(**batch, **kwargs, max_new_tokens=params.max_new_tokens,
                                          logits_processor=LogitsProcessorList(draws))
                new_tokens = out[:, batch["input_ids"].shape[1]:].tolist()
            else:
                new_tokens = decode_segmented(self.model, batch["input_ids"], batch["attention_mask"],
                                              self.detokenizer.eos_ids, params.max_new_tokens, self.segment,
                                              streams=streams, **kwargs)
            for i, ids in zip(chunk, new_tokens):
                completions[i] = self._completion(ids)
            done += len(chunk)
            bar.set_postfix(completions=f"{done}/{len(expanded)}")

        n = params.n
        return [completions[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _completion(self, ids: list[int]) -> Completion:
        # everything after the first eos is padding from sequences that finished early
        end = next((k for k, t in enumerate(ids) if t in self.detokenizer.eos_ids), None)
        finished = end is not None
        ids = ids[:end + 1] if finished else ids
        return Completion(text=self.detokenizer.text(ids), num_tokens=len(ids), finished=finished)


def decode_segmented(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, eos_ids: list[int],
                     max_new_tokens: int, segment: int = 32, streams: RowStreams | None = None,
                     **kwargs) -> list[list[int]]:
    """New token ids per row of a left-padded batch, as one `model.generate(**kwargs)` call would
    give them, decoded `segment` steps at a time. Between segments the rows that have ended leave
    the batch, so its long tail decodes only live sequences, and the KV cache is rebuilt as a
    static one just long enough for the next segment. Decoding on CPU is bound by reading the
    cache: plain `generate` copies its cache at every step, and one static cache for the whole
    budget is read in full at every step, filled or not. With `streams` every row draws its tokens
    from its own stream (RowStreams; `kwargs` then decode greedily), so rows that leave change no
    other row's draws; without, `generate` samples as `kwargs` say, and rows that leave shift which
    random draws the others get, not their distribution. A row holds padding after its first eos,
    up to the end of the segment it ended in."""
    ids, mask = input_ids, attention_mask
    eos = torch.tensor(eos_ids, device=ids.device)
    rows, new, made = torch.arange(len(ids)), [[] for _ in ids], 0
    cache, live = None, None
    # the class's generate: a trainer's rollout hook answers the instance's with this function
    generate = type(model).generate
    with _cpu_attention(model):
        while len(rows) and made < max_new_tokens:
            steps = min(segment, max_new_tokens - made)
            cache = _static_cache(model, cache, live, ids.shape[1] + steps)
            draws = {"logits_processor": LogitsProcessorList([streams.draws(rows, steps)])} if streams else {}
            out = generate(model, input_ids=ids, attention_mask=mask, **{CACHE_KWARG: cache},
                           **_segment_kwargs(kwargs, steps), **draws)
            step = out[:, ids.shape[1]:]
            for row, tokens in zip(rows.tolist(), step.tolist()):
                new[row].extend(tokens)
            made += step.shape[1]
            live = (~torch.isin(step, eos).any(dim=1)).nonzero().squeeze(1)
            ids, rows = out[live], rows[live.cpu()]
            mask = torch.cat([mask, torch.ones_like(step)], dim=1)[live]
    return new


def _segment_kwargs(kwargs: dict, steps: int) -> dict:
    """`kwargs` for one segment of `steps` tokens. disable_compile: on a GPU transformers compiles the
    forward for a static cache, and every batch size and cache length met here would compile again."""
    settings = {"max_new_tokens": steps, "disable_compile": True}
    config = kwargs.get("generation_config")
    if config is None:
        return {**kwargs, **settings}
    # a GenerationConfig takes no generation settings beside it
    config = copy.deepcopy(config)
    config.update(**settings)
    return {**kwargs, "generation_config": config}


def _static_cache(model, old: StaticCache | None, rows: torch.Tensor | None, length: int) -> StaticCache:
    """An empty static cache of `length` positions, or one holding the filled part of `old`'s `rows`."""
    cache = StaticCache(config=model.config, max_cache_len=length)
    if old is not None:
        filled = int(old.get_seq_length())
        for index, layer in enumerate(old.layers):
            cache.update(layer.keys[rows, :, :filled], layer.values[rows, :, :filled], index)
    return cache


@contextmanager
def _cpu_attention(model):
    """Plain matmul attention while decoding on a CPU: one decoding step's attention is a batch of
    matrix-vector products, which matmuls do faster than SDPA's kernel (1.4x on the built-in
    model). The model's own choice is back afterwards, for a trainer's forward passes."""
    before = model.config._attn_implementation
    if model.device.type != "cpu" or before == "eager":
        yield
        return
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(before)


def generate_kwargs(tokenizer, eos_ids: list[int], params: SamplingParams) -> dict:
    """Keyword arguments of transformers' `model.generate` for `params` (all but the token budget):
    greedy decoding, which RowStreams' draws turn into sampling where params.temperature > 0. The
    checkpoint's own sampling defaults (a generation_config's temperature or top_k) are cleared,
    so only SamplingParams apply."""
    return dict(use_cache=True, pad_token_id=tokenizer.pad_token_id, eos_token_id=eos_ids,
                bad_words_ids=banned_token_sequences(tokenizer, params.banned_words) or None,
                do_sample=False, temperature=None, top_p=None, top_k=None)


def load_generator(model_dir: str, backend: str = "hf", **kwargs) -> Generator:
    """A Generator for model_dir; kwargs go to the backend's constructor."""
    if backend == "hf":
        return HFGenerator(model_dir, **kwargs)
    if backend == "vllm":
        # imported here so that CPU-only runs never need vllm installed
        from selfdistill.decoding.generation_vllm import VLLMGenerator
        return VLLMGenerator(model_dir, **kwargs)
    raise ValueError(f"backend={backend!r}: valid are {', '.join(map(repr, BACKENDS))}")
