"""What every generation backend shares: the sampling settings, a completion, the Generator
protocol, chat rendering, banned-word token sequences and detokenizing. The backends
(generation.py for Hugging Face, generation_vllm.py for vLLM) import it; it imports neither.
"""

from dataclasses import dataclass
from typing import Protocol

import torch
from transformers import PreTrainedTokenizerBase

BACKENDS = ("hf", "vllm")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class SamplingParams:
    n: int = 1  # completions per prompt
    temperature: float = 1.0  # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0  # 0: every token
    max_new_tokens: int = 256
    seed: int = 0
    banned_words: tuple[str, ...] = ()  # see banned_token_sequences for what is banned

    def __post_init__(self):
        # fail here, with the bad value, rather than deep inside a backend's sampler
        if self.n < 1:
            raise ValueError(f"n={self.n}: need at least 1 completion per prompt")
        if self.temperature < 0:
            raise ValueError(f"temperature={self.temperature}: must be >= 0 (0 means greedy)")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p={self.top_p}: must be in (0, 1]")
        if self.top_k < 0:
            raise ValueError(f"top_k={self.top_k}: must be >= 0 (0 means off)")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens={self.max_new_tokens}: must be >= 1")

    @classmethod
    def from_config(cls, section: dict, **overrides) -> "SamplingParams":
        """From a config `sampling` section; `overrides` (n, seed, banned_words) win over it."""
        keys = ("n", "temperature", "top_p", "top_k", "max_new_tokens", "seed")
        return cls(**{**{k: section[k] for k in keys if k in section}, **overrides})


@dataclass(frozen=True)
class Completion:
    text: str  # decoded; keeps "<think>"/"</think>" and other special tokens except pad/eos/bos
    num_tokens: int  # generated tokens up to and including the first eos (as vLLM counts them)
    finished: bool  # True if an eos ended it, False if it hit max_new_tokens


class Generator(Protocol):
    tokenizer: PreTrainedTokenizerBase  # the model's own, for rendering prompts with its chat template

    def generate(self, prompts: list[str], params: SamplingParams, keys: list | None = None) -> list[list[Completion]]:
        """For each fully rendered prompt (chat template applied), params.n completions, in order.
        Completion j of prompt i samples from the stream of (params.seed, keys[i], j), its
        position i standing in for keys[i] where none are given (decoding/streams.py)."""


def render_chat(tokenizer, user_content: str, enable_thinking: bool | None = None) -> str:
    """The prompt text for one user message, ending where the assistant starts to answer."""
    # Qwen3-style templates read enable_thinking; other templates must not see it at all
    kwargs = {} if enable_thinking is None else {"enable_thinking": enable_thinking}
    messages = [{"role": "user", "content": user_content}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False, **kwargs)


def banned_token_sequences(tokenizer, words) -> list[list[int]]:
    """Token-id sequences spelling each word as a model would likely write it.

    Covers lower, Capitalized and UPPER case, each with and without a leading space
    (BPE vocabularies usually have separate tokens for " wait" and "wait"). Only these
    tokenizations are banned: a model may still spell a word from other pieces.
    """
    sequences = []
    for word in words:
        for variant in (word.lower(), word.capitalize(), word.upper()):
            for spaced in (variant, " " + variant):
                ids = tokenizer.encode(spaced, add_special_tokens=False)
                if ids and ids not in sequences:
                    sequences.append(ids)
    return sequences


class Detokenizer:
    """Generated token ids to completion text, the same way for every backend."""

    def __init__(self, tokenizer, generation_config):
        self.tokenizer = tokenizer
        # chat models often end a turn with a token other than the tokenizer's eos
        # (Qwen: <|im_end|> vs <|endoftext|>); stop on any of them
        config_eos = generation_config.eos_token_id
        config_eos = config_eos if isinstance(config_eos, list) else [config_eos]
        self.eos_ids = sorted({tokenizer.eos_token_id, *config_eos} - {None})
        # ids whose strings are dropped from the text; every other special token stays
        self.hidden_ids = {*self.eos_ids, tokenizer.pad_token_id, tokenizer.bos_token_id}

    def text(self, ids: list[int]) -> str:
        # skip_special_tokens=True would also drop <think>/</think>, which callers parse
        return self.tokenizer.decode([t for t in ids if t not in self.hidden_ids], skip_special_tokens=False)
