"""On-policy rollouts decoded segment by segment inside TRL's own hooks: greedy ones identical to
the hooks' plain `generate`, sampled ones alike in distribution and reproducible, and training
through `trainer_for` taking that path."""
import math
import random

import pytest
import torch
from test_generation import assert_same_distribution, make_model_dir, make_tokenizer
from test_study_step import GRPO, SDPO
from transformers import AutoModelForCausalLM, GenerationConfig

import selfdistill.training.rollouts as rollouts
from selfdistill.training.onpolicy import trainer_for

ROWS = [{"problem_id": f"p{i}", "prompt": f"What is {i}+2?", "answer": str(i + 2)} for i in range(4)]
METHODS = ["sdpo_s", "sdpo_s_keepdoubt", "grpo"]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A random model whose " " also ends a completion, so rows of one batch end at many steps
    (its greedy continuations reach that token after 3 to 18 tokens or never)."""
    path = make_model_dir(tmp_path_factory.mktemp("stopping"))
    config = GenerationConfig.from_pretrained(path)
    config.eos_token_id = [config.eos_token_id, make_tokenizer().convert_tokens_to_ids(" ")]
    config.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def prompt_ids():
    """Chat prompts of 1 to 12 random words, tokenized as the trainers tokenize them."""
    tokenizer, rng = make_tokenizer(), random.Random(0)
    words = ["wait", "hmm", "check", "so", "the", "answer", "is", "what", "1", "2", "+", "?"]
    chats = [[{"role": "user", "content": " ".join(rng.choices(words, k=rng.randint(1, 12)))}] for _ in range(40)]
    return [tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True, return_dict=True)
            ["input_ids"] for chat in chats]


@pytest.fixture
def trainer(model_dir, tmp_path):
    def build(method, **settings):
        base = GRPO if method == "grpo" else SDPO
        return trainer_for(method, {**base, "max_completion_length": 20, **settings},
                           AutoModelForCausalLM.from_pretrained(model_dir), make_tokenizer(), ROWS, "arith",
                           str(tmp_path), 0, use_cpu=True)
    return build


@pytest.fixture
def decoded(monkeypatch):
    """How many batches went through the segmented decoder."""
    calls = []
    inner = rollouts.decode_segmented

    def counted(*args, **kwargs):
        calls.append(len(args[1]))
        return inner(*args, **kwargs)

    monkeypatch.setattr(rollouts, "decode_segmented", counted)
    return calls


def hook(trainer, prompt_ids, segment):
    """The trainer's own rollout hook with `segment` (None: TRL's plain `generate`)."""
    trainer.rollout_segment = segment
    if hasattr(trainer, "_generate_single_turn"):
        return trainer._generate_single_turn(prompt_ids, None, {}, 1)
    return trainer._generate_transformers(prompt_ids)


@pytest.mark.parametrize("method", METHODS)
def test_greedy_rollouts_identical_to_the_hooks_plain_generate(trainer, prompt_ids, decoded, method):
    t = trainer(method)
    t.generation_config.do_sample = False
    plain = hook(t, prompt_ids, None)
    assert not decoded
    segmented = hook(t, prompt_ids, 3)
    assert decoded == [len(prompt_ids)]
    assert segmented == plain  # SDPO: (prompt ids, completion ids); GRPO: (completion ids, no logprobs)
    completions = plain[1] if method != "grpo" else plain[0]
    lengths = [len(c) for c in completions]
    # rows left the batch at several segment boundaries, and some ran to the token budget
    assert len({(n - 1) // 3 for n in lengths if n < 20}) >= 3 and 20 in lengths and max(lengths) == 20
    assert t.model.config._attn_implementation == "sdpa"  # training's attention is back


@pytest.mark.parametrize("method", ["sdpo_s", "grpo"])
def test_sampled_rollouts_alike_in_distribution_and_reproducible(trainer, prompt_ids, method):
    t = trainer(method, max_completion_length=12)
    batch = [ids for ids in prompt_ids[:8] for _ in range(100)]

    def sample(segment, seed):
        torch.manual_seed(seed)
        out = hook(t, batch, segment)
        return out[1] if method != "grpo" else out[0]

    segmented = sample(3, 0)
    assert sample(3, 0) == segmented
    assert sample(3, 1) != segmented
    assert_same_distribution(segmented, sample(None, 0))


def test_calls_it_cannot_segment_are_left_plain(model_dir, decoded):
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    ids = torch.tensor([[2, 10, 11]])
    # min_new_tokens counts from the prompt's end, which every segment would move
    config = GenerationConfig(do_sample=False, max_new_tokens=5, min_new_tokens=4, eos_token_id=[3], pad_token_id=1)
    assert not rollouts.segmentable(config)
    with rollouts.segmented_generate(model, 2):
        kept = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
    assert not decoded and "generate" not in vars(model)
    plain = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=config)
    assert torch.equal(kept, plain)


@pytest.mark.parametrize("method", METHODS)
def test_two_training_steps_through_trainer_for(trainer, decoded, method):
    t = trainer(method, max_steps=2)
    assert type(t).__name__.startswith("Segmented")
    t.train()
    assert t.state.global_step == 2
    assert decoded == [4, 4]  # one generation of batch_size rollouts per step
    logged = [h for h in t.state.log_history if "completions/mean_length" in h]
    assert len(logged) == 2 and all(1 <= h["completions/mean_length"] <= 20 for h in logged)
    assert all(math.isfinite(h["loss"]) for h in logged)
