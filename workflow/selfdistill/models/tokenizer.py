"""A word-level tokenizer built from a corpus, saved as a normal Hugging Face tokenizer.

Words, numbers and punctuation (with their leading space) are single tokens, so each epistemic word
is one token it can be banned from. A step label "(3)" and an instruction "Subtract 4" are single
tokens too: a trace line restates its step ("(3) Subtract 4: ..."), and finding that step in the
problem, or in a solution shown in the context, is then one look-up of the token that follows the
same label earlier, rather than a match over several tokens that a tiny model confuses with the
numbers around them. The world's model should fail at arithmetic and at doubting, not at reading.
"""
from __future__ import annotations

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

PAD, BOS, EOS = "<|pad|>", "<|im_start|>", "<|im_end|>"
THINK_TAGS = ("<think>", "</think>")
# a label takes no leading space, so it is the same token mid-line in a problem and at a line's start
PIECES = r"\(\d+\)|\s(?=\(\d+\))| ?(?:Add|Subtract|Multiply by) \d+| ?[A-Za-z]+| ?\d+| ?[^\sA-Za-z\d]|\s"
UNK = "[UNK]"

# ChatML, as the Qwen family writes it; the generation prompt opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    """Learns the vocabulary of `texts`; the tag, chat and role tokens are always present."""
    texts = [*texts, "user assistant system"]
    tok = Tokenizer(models.WordLevel(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(PIECES), behavior="isolated")
    tok.decoder = decoders.Fuse()
    specials = [PAD, UNK, BOS, EOS]
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1))
    tok.add_special_tokens([AddedToken(t, normalized=False) for t in specials])
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in THINK_TAGS])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, unk_token=UNK, bos_token=BOS,
                                   eos_token=EOS, chat_template=CHAT_TEMPLATE)
