"""The teacher probe finds each epistemic word's first token and scores it under the model."""
import math

import torch

from selfdistill.decoding.generation import render_chat
from selfdistill.evaluation.probe import word_positions, word_probabilities
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer


def test_word_positions_map_words_to_the_token_holding_their_first_letter():
    text = "Q: x\nA: 3. Wait, checking. Hmm ok"
    start = text.index("A:")
    # one token per whitespace-separated piece, spans over `text`
    offsets, i = [], 0
    for piece in text.split(" "):
        j = text.index(piece, i)
        offsets.append((j, j + len(piece)))
        i = j + len(piece)
    found = word_positions(offsets, text, start)
    # "checking" is not the word "check" under the word-boundary rule
    assert [w for _, w in found] == ["wait", "hmm"]
    assert [text[offsets[t][0]:offsets[t][1]] for t, _ in found] == ["Wait,", "Hmm"]


def test_word_probabilities_equal_the_models_next_token_probability():
    prompts = ["Start with 7. (1) Add 5.", "Start with 3. (1) Add 2. (2) Add 4."]
    responses = ["<think>\n(1) Add 5: 7 + 5 = 12. Wait, let me check:", "<think>\nHmm, no doubt here. Maybe"]
    tokenizer = build_tokenizer([p + r for p, r in zip(prompts, responses)])
    model = init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                       max_positions=128, seed=0).eval()
    got = word_probabilities(model, tokenizer, prompts, responses, batch_size=2)
    assert [[w for w, _ in pairs] for pairs in got] == [["wait", "check"], ["hmm", "maybe"]]
    # the first pair's probability, computed alone and without padding
    text = render_chat(tokenizer, prompts[0]) + responses[0]
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    wait = tokenizer(" Wait", add_special_tokens=False)["input_ids"][0]
    pos = ids[0].tolist().index(wait)
    expected = torch.softmax(model(ids).logits[0, pos - 1], -1)[wait].item()
    assert math.isclose(got[0][0][1], expected, rel_tol=1e-4)


def test_only_the_scored_positions_go_through_the_output_layer():
    prompts = ["Start with 7. (1) Add 5."] * 3
    responses = ["<think>\n" + "Add 5: 7 + 5 = 12. " * 20 + "Wait, so 12.", "<think>\nHmm. Maybe", "<think>\nNo doubt."]
    tokenizer = build_tokenizer([p + r for p, r in zip(prompts, responses)])
    model = init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32,
                       max_positions=256, seed=0).eval()
    seen = []
    model.get_output_embeddings().register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape)))
    got = word_probabilities(model, tokenizer, prompts, responses, batch_size=3)
    assert [[w for w, _ in pairs] for pairs in got] == [["wait"], ["hmm", "maybe"], []]
    # three positions scored, never a row of logits per token of the batch (3 x ~150 tokens)
    assert [rows for rows, _ in seen] == [3]
