"""Sampling completions: the Hugging Face generator, the optional vLLM backend, graded sampling."""
