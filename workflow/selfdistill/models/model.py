"""The world's base model: a small Llama-style decoder, initialised from scratch."""
from __future__ import annotations

from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


def init_model(tokenizer: PreTrainedTokenizerFast, hidden_size: int, num_layers: int, num_heads: int,
               intermediate_size: int, max_positions: int, seed: int) -> LlamaForCausalLM:
    import torch

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=num_heads, num_key_value_heads=num_heads,
        intermediate_size=intermediate_size, max_position_embeddings=max_positions,
        tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **_pretraining_attention(),
    )
    return LlamaForCausalLM(config)


def _pretraining_attention() -> dict:
    """On a CPU, plain matmul attention: it pretrains this model faster than SDPA's kernel (1.2x
    on two threads, 1.35x on one; benchmarks/README.md). The choice is not saved with the model, so
    later stages load it with transformers' default, which their longer prompts favour."""
    import torch

    return {} if torch.cuda.is_available() else {"attn_implementation": "eager"}
