"""Tests for selfdistill.decoding.generation on a tiny word-level tokenizer and random Llama built locally."""

import math
import random
import statistics
from collections import Counter

import pytest
import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from selfdistill.data import arith
from selfdistill.decoding.generation import (
    Completion, HFGenerator, SamplingParams, banned_token_sequences, load_generator, render_chat,
)
from selfdistill.decoding.sampling import sample_and_grade

WORDS = ["wait", "hmm", "check", "so", "the", "answer", "is", "what", "user", "assistant"]
SPECIAL = ["<unk>", "<|pad|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and not enable_thinking %}<think>\n\n</think>\n\n{% endif %}{% endif %}"
)
# CPU float32 everywhere: on a GPU, bfloat16 and batch-shape-dependent kernels could flip
# near-tied greedy choices and make the exact comparisons below flaky
DEVICE = "cpu"
PROMPTS = ["What is 1+2?", "Check the answer: 12+345=357, so what is 9?", "Hmm."]


def make_tokenizer():
    # one token per word, digit, space or punctuation mark, so any text round-trips
    cased = [v for w in WORDS for v in (w, w.capitalize(), w.upper())]
    pieces = cased + [" " + w for w in cased] + list("0123456789") + list(" \n.,?!:+=-")
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(SPECIAL + pieces)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r" ?[A-Za-z]+|\d|\s|[^\sA-Za-z\d]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|pad|>",
        additional_special_tokens=["<|im_start|>", "<think>", "</think>"],
        chat_template=CHAT_TEMPLATE, clean_up_tokenization_spaces=False,
    )


def make_model_dir(path, prefer=None):
    """Save a tiny random Llama; prefer maps token -> strength to make those tokens most likely."""
    tokenizer = make_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    if prefer:
        # Llama's lm_head has no bias, so fake one: a large constant in hidden dimension 0 of
        # every embedding dominates the residual stream, the final norm turns it into about
        # +sqrt(hidden) whatever the context, and lm_head row weights on it act as biases
        with torch.no_grad():
            model.model.embed_tokens.weight[:, 0] = 1.0
            for token, strength in prefer.items():
                model.lm_head.weight[tokenizer.convert_tokens_to_ids(token), 0] = strength
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="module")
def prompts(tokenizer):
    return [render_chat(tokenizer, p) for p in PROMPTS]


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return HFGenerator(make_model_dir(tmp_path_factory.mktemp("random")), batch_size=4, device=DEVICE)


@pytest.fixture(scope="module")
def biased(tmp_path_factory):
    """Generators for models that strongly prefer the given tokens."""
    def build(**prefer):
        return HFGenerator(make_model_dir(tmp_path_factory.mktemp("biased"), prefer), batch_size=4, device=DEVICE)
    return build


def texts(result):
    return [[c.text for c in completions] for completions in result]


def test_shape(generator, prompts):
    result = generator.generate(prompts, SamplingParams(n=3, max_new_tokens=4))
    assert len(result) == len(prompts)
    assert all(len(completions) == 3 for completions in result)
    assert all(isinstance(c, Completion) for completions in result for c in completions)


def test_seed_reproducible_and_varies(generator, prompts):
    params = SamplingParams(n=2, temperature=1.0, max_new_tokens=8, seed=1)
    first = texts(generator.generate(prompts, params))
    assert texts(generator.generate(prompts, params)) == first
    other = SamplingParams(n=2, temperature=1.0, max_new_tokens=8, seed=2)
    assert texts(generator.generate(prompts, other)) != first


def test_greedy_matches_manual_loop(generator, prompts):
    model, tok, max_new = generator.model, generator.tokenizer, 10
    ids = tok(prompts[1], add_special_tokens=False, return_tensors="pt")["input_ids"]
    new = []
    with torch.no_grad():
        for _ in range(max_new):
            next_id = model(torch.tensor([ids[0].tolist() + new])).logits[0, -1].argmax().item()
            new.append(next_id)
            if next_id == tok.eos_token_id:
                break
    [[completion]] = generator.generate(prompts[1:2], SamplingParams(temperature=0, max_new_tokens=max_new))
    assert completion.num_tokens == len(new)
    assert completion.text == tok.decode([t for t in new if t != tok.eos_token_id], skip_special_tokens=False)


def test_batched_greedy_matches_each_prompt_alone(generator, prompts):
    # the prompts differ in length, so a wrong padding side or mask would change the outputs
    params = SamplingParams(n=2, temperature=0, max_new_tokens=10)
    batched = texts(generator.generate(prompts, params))
    alone = [texts(generator.generate([p], params))[0] for p in prompts]
    assert batched == alone
    assert all(a == b for a, b in batched)  # greedy copies agree
    assert len({a for a, _ in batched}) > 1  # else the order of outputs was not tested


def test_top_k_one_samples_the_greedy_completion(generator, prompts):
    greedy = texts(generator.generate(prompts, SamplingParams(n=2, temperature=0, max_new_tokens=10)))
    top1 = SamplingParams.from_config({"n": 2, "temperature": 1.0, "top_p": 1.0, "top_k": 1, "max_new_tokens": 10})
    assert top1.top_k == 1
    assert texts(generator.generate(prompts, top1)) == greedy
    with pytest.raises(ValueError, match="top_k=-1"):
        SamplingParams(top_k=-1)


def test_banned_token_sequences(tokenizer):
    def ids(*tokens):
        return [tokenizer.convert_tokens_to_ids(t) for t in tokens]
    variants = ["wait", " wait", "Wait", " Wait", "WAIT", " WAIT"]
    assert sorted(banned_token_sequences(tokenizer, ["Wait"])) == sorted([ids(v) for v in variants])
    # digits have no case, so the variants collapse; a leading space is its own token here
    assert banned_token_sequences(tokenizer, ["12"]) == [ids("1", "2"), ids(" ", "1", "2")]
    assert banned_token_sequences(tokenizer, [""]) == [ids(" ")]


def test_banned_words_never_generated(biased, prompts):
    generator = biased(**{" Wait": 10.0, "hmm": 9.0})
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=6)
    free = texts(generator.generate(prompts, params))
    assert all(" Wait" in text for row in free for text in row)
    banned = texts(generator.generate(prompts, SamplingParams(n=4, max_new_tokens=6, banned_words=("wait",))))
    assert all("wait" not in text.lower() and "hmm" in text for row in banned for text in row)
    both = texts(generator.generate(prompts, SamplingParams(n=4, max_new_tokens=6, banned_words=("wait", "HMM"))))
    assert all("wait" not in text.lower() and "hmm" not in text.lower() for row in both for text in row)


def test_unfinished_completion_counts_max_new_tokens(biased, prompts):
    [[completion]] = biased(**{" Wait": 10.0}).generate(prompts[:1], SamplingParams(max_new_tokens=5))
    assert completion == Completion(text=" Wait" * 5, num_tokens=5, finished=False)


def test_eos_finishes_and_is_not_in_text(biased, prompts):
    result = biased(**{"<|im_end|>": 10.0}).generate(prompts, SamplingParams(n=2, max_new_tokens=5))
    assert all(c == Completion(text="", num_tokens=1, finished=True) for row in result for c in row)


def test_think_tokens_kept_in_text(biased, prompts):
    [[completion]] = biased(**{"<think>": 10.0}).generate(prompts[:1], SamplingParams(max_new_tokens=3))
    assert completion.text == "<think>" * 3


def test_num_tokens_and_finished_consistent(generator, prompts):
    # a random model over a small vocabulary emits eos now and then, so both kinds occur
    result = generator.generate(prompts, SamplingParams(n=16, temperature=1.0, max_new_tokens=12))
    completions = [c for row in result for c in row]
    assert {c.finished for c in completions} == {True, False}
    for c in completions:
        assert 1 <= c.num_tokens <= 12
        assert c.finished or c.num_tokens == 12
        assert "<|im_end|>" not in c.text and "<|pad|>" not in c.text


def test_render_chat(tokenizer):
    base = "<|im_start|>user\nWhat is 1+2?<|im_end|>\n<|im_start|>assistant\n"
    assert render_chat(tokenizer, "What is 1+2?") == base
    assert render_chat(tokenizer, "What is 1+2?", enable_thinking=True) == base
    assert render_chat(tokenizer, "What is 1+2?", enable_thinking=False) == base + "<think>\n\n</think>\n\n"


def test_sample_and_grade_renders_with_the_thinking_switch_and_grades_after_think(tokenizer):
    class Recorder:
        def __init__(self):
            self.tokenizer, self.prompts = tokenizer, None

        def generate(self, prompts, params, keys=None):
            self.prompts, self.keys = prompts, keys
            # R1-Distill style: the completion closes a <think> the prompt opened
            return [[Completion(text="So \\boxed{2}?\n</think>\nThe answer is \\boxed{3}.", num_tokens=9,
                                finished=True)] for _ in prompts]

    gen = Recorder()
    [row] = sample_and_grade(gen, [{"problem_id": "a", "prompt": "What is 1+2?", "answer": "3"}],
                             SamplingParams(), arith.grade, enable_thinking=False)
    assert gen.prompts == [render_chat(tokenizer, "What is 1+2?", enable_thinking=False)]
    assert gen.prompts[0].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert gen.keys == ["a"]  # each problem samples from streams of its own
    assert row["prediction"] == "3" and row["correct"]


def test_load_generator(generator, tmp_path):
    with pytest.raises(ValueError, match="'tgi'.*'hf', 'vllm'"):
        load_generator("unused", backend="tgi")
    assert isinstance(load_generator(make_model_dir(tmp_path), backend="hf", device=DEVICE), HFGenerator)


def test_invalid_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="'int8'"):
        HFGenerator(str(tmp_path), dtype="int8")
    with pytest.raises(ValueError, match="temperature=-1"):
        SamplingParams(temperature=-1)
    with pytest.raises(ValueError, match="top_p=0"):
        SamplingParams(top_p=0)


@pytest.fixture(scope="module")
def stopping(tmp_path_factory):
    """Fast and plain generators of a random model whose " " also ends a completion: its greedy
    continuations reach that token after 3 to 18 tokens or never, so rows of one batch end at
    many different steps."""
    path = make_model_dir(tmp_path_factory.mktemp("stopping"))
    config = GenerationConfig.from_pretrained(path)
    config.eos_token_id = [config.eos_token_id, make_tokenizer().convert_tokens_to_ids(" ")]
    config.save_pretrained(path)
    return {kind: HFGenerator(path, batch_size=64, device=DEVICE, segment=3, plain=kind == "plain")
            for kind in ("fast", "plain")}


@pytest.fixture(scope="module")
def varied_prompts(tokenizer):
    rng = random.Random(0)
    words = ["wait", "hmm", "check", "so", "the", "answer", "is", "what", "1", "2", "+", "?"]
    return [render_chat(tokenizer, " ".join(rng.choices(words, k=rng.randint(1, 12)))) for _ in range(40)]


def test_greedy_identical_to_plain_generate(stopping, varied_prompts):
    params = SamplingParams(temperature=0, max_new_tokens=20)
    fast = stopping["fast"].generate(varied_prompts, params)
    assert fast == stopping["plain"].generate(varied_prompts, params)
    lengths = [c.num_tokens for [c] in fast]
    # rows left the batch at several segment boundaries, and some ran to the end
    assert len({(n - 1) // 3 for n in lengths if n < 20}) >= 3 and 20 in lengths


def assert_same_distribution(a: list[list], b: list[list]) -> None:
    """Token frequencies and mean length of two sets of sampled sequences agree within 5 standard
    errors of their difference (a two-proportion z-test per token), and the random streams differ."""
    assert a != b
    tokens = {k: Counter(t for seq in runs for t in seq) for k, runs in (("a", a), ("b", b))}
    totals = {k: sum(c.values()) for k, c in tokens.items()}
    for token in tokens["a"] | tokens["b"]:
        p = {k: tokens[k][token] / totals[k] for k in tokens}
        pooled = (tokens["a"][token] + tokens["b"][token]) / sum(totals.values())
        se = math.sqrt(pooled * (1 - pooled) * (1 / totals["a"] + 1 / totals["b"]))
        assert abs(p["a"] - p["b"]) <= 5 * se, (token, p)
    lengths = {k: [len(seq) for seq in runs] for k, runs in (("a", a), ("b", b))}
    spread = statistics.pstdev(lengths["a"] + lengths["b"])
    se = spread * math.sqrt(1 / len(a) + 1 / len(b))
    assert abs(statistics.mean(lengths["a"]) - statistics.mean(lengths["b"])) <= 5 * se


def test_sampled_identical_to_plain_generate(stopping, varied_prompts):
    # each row draws from its own stream, so rows leaving the batch change no other row's tokens
    params = SamplingParams(n=4, temperature=1.0, top_p=0.9, max_new_tokens=20, seed=3)
    fast = stopping["fast"].generate(varied_prompts, params)
    assert fast == stopping["plain"].generate(varied_prompts, params)
    assert len({c.num_tokens for row in fast for c in row}) > 5


def test_draws_do_not_depend_on_the_batch(stopping, varied_prompts, tmp_path):
    params = SamplingParams(n=3, temperature=1.0, max_new_tokens=12, seed=5)
    keys = [f"p{i}" for i in range(len(varied_prompts))]
    whole = stopping["fast"].generate(varied_prompts, params, keys=keys)
    one_by_one = HFGenerator(stopping["fast"].model.name_or_path, batch_size=1, device=DEVICE, segment=5)
    picked = [7, 2, 30]
    alone = one_by_one.generate([varied_prompts[i] for i in picked], params, keys=[keys[i] for i in picked])
    assert alone == [whole[i] for i in picked]
    # a prompt's key, not its place in the call, chooses its streams
    assert stopping["fast"].generate(varied_prompts, params) != whole
    with pytest.raises(ValueError, match="2 stream keys for 3 prompts"):
        stopping["fast"].generate(varied_prompts[:3], params, keys=["a", "b"])


def test_sampled_distribution_matches_transformers_sampling(stopping, varied_prompts):
    # 8 prompts x 100 samples, drawn by the streams and by transformers' own multinomial sampling
    params = SamplingParams(n=100, temperature=0.8, top_p=0.9, top_k=12, max_new_tokens=12, seed=3)
    gen = stopping["fast"]
    tokenize = gen.tokenizer.tokenize
    ours = [tokenize(c.text) + [None] * c.finished for row in gen.generate(varied_prompts[:8], params) for c in row]
    torch.manual_seed(0)
    theirs = []
    for prompt in varied_prompts[:8]:
        batch = gen.tokenizer([prompt] * params.n, add_special_tokens=False, return_tensors="pt")
        out = gen.model.generate(**batch, do_sample=True, temperature=0.8, top_p=0.9, top_k=12, max_new_tokens=12,
                                 eos_token_id=gen.detokenizer.eos_ids, pad_token_id=gen.tokenizer.pad_token_id)
        theirs += [tokenize(gen.detokenizer.text(ids)) + [None] * any(t in gen.detokenizer.eos_ids for t in ids)
                   for ids in out[:, batch["input_ids"].shape[1]:].tolist()]
    assert_same_distribution(ours, theirs)
