"""The built-in model and its tokenizer, and pretrained checkpoints as every stage loads them."""
