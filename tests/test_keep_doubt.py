"""SDPO that keeps doubt, on a hand-made batch: its loss cannot move the student's probability of
starting an epistemic word, and it is TRL's plain SDPO loss where no doubt token has mass."""
import pytest
import torch
from transformers import AutoModelForCausalLM
from trl.experimental.sdpo import SDPOTrainer
from trl.experimental.sdpo.sdpo_trainer import DistillationLogits

import selfdistill.training.onpolicy as onpolicy
from selfdistill.evaluation.metrics import EPISTEMIC_WORDS
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.training.keep_doubt import doubt_start_ids
from selfdistill.training.onpolicy import trainer_for

SDPO = {"learning_rate": 1e-3, "max_steps": 1, "warmup_steps": 0, "batch_size": 4, "num_generations": 2,
        "temperature": 1.0, "max_completion_length": 6, "checkpoint_interval": 2,
        "distillation_mode": "topk_logits", "distillation_topk": 5, "distillation_add_tail": True,
        "distillation_alpha": 0.5, "distillation_is_clip": 2.0, "teacher_model_kind": "ema",
        "teacher_update_rate": 0.0, "success_reward_threshold": 0.5, "dont_reprompt_on_self_success": True}
ROWS = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(i + 2)} for i in range(4)]
MODES = [{"distillation_mode": "topk_logits", "distillation_add_tail": True},
         {"distillation_mode": "topk_logits", "distillation_add_tail": False},
         {"distillation_mode": "full_logits"},
         {"distillation_mode": "sampled_token", "distillation_alpha": 1.0}]
ALPHAS = [0.0, 0.5, 1.0]


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer([r["prompt"] + " Wait, check: hmm maybe perhaps \\boxed{12} Correct solution:"
                            for r in ROWS])


@pytest.fixture(scope="module")
def keep_doubt_trainer(tokenizer, tmp_path_factory):
    """A keep-doubt trainer on a tiny model; only its loss is used."""
    base = tmp_path_factory.mktemp("base")
    init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_positions=64,
               seed=0).save_pretrained(base)
    return trainer_for("sdpo_s_keepdoubt", SDPO, AutoModelForCausalLM.from_pretrained(base), tokenizer, ROWS,
                       "arith", str(base / "out"), 0, use_cpu=True)


@pytest.fixture
def trainers(keep_doubt_trainer, monkeypatch):
    """The trainer with a case's distillation settings."""
    def set_case(case):
        i, alpha = case
        for key, value in {**MODES[i], "distillation_alpha": alpha}.items():
            monkeypatch.setattr(keep_doubt_trainer.args, key, value)
        return keep_doubt_trainer

    return set_case


def cases():
    return [(i, a) for i, m in enumerate(MODES) for a in (ALPHAS if m["distillation_mode"] != "sampled_token"
                                                           else [1.0])]


def batch(vocab: int, doubt: list[int], doubt_shift: torch.Tensor, seed: int, teacher_doubt: float = 0.0):
    """Student and teacher logits over `vocab` for 2 x 5 completion positions; the student's doubt
    logits are raised by `doubt_shift` per position (its doubt-start probability moves, the shape
    inside and outside the doubt tokens stays)."""
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(2, 5, vocab, generator=g) * 2
    teacher = torch.randn(2, 5, vocab, generator=g) * 2
    teacher[..., doubt] += teacher_doubt
    is_doubt = torch.zeros(vocab, dtype=torch.bool)
    is_doubt[doubt] = True
    student = student + doubt_shift.unsqueeze(-1) * is_doubt
    others = torch.tensor([i for i in range(vocab) if i not in doubt])
    completion = others[torch.randint(0, len(others), (2, 5), generator=g)]
    completion[0, 1] = doubt[0]  # the student wrote a doubt word here
    mask = torch.ones(2, 5)
    mask[1, 4] = 0
    return student, teacher, completion, mask


def loss(trainer, student, teacher, completion, mask, plain: bool, old=None):
    logits = DistillationLogits(completion_ids=completion, completion_mask=mask, loss_mask=mask,
                                student_logits=student, teacher_logits=teacher)
    inputs = {} if old is None else {"old_per_token_logps": old}
    fn = SDPOTrainer._compute_self_distillation_loss if plain else type(trainer)._compute_self_distillation_loss
    return fn(trainer, trainer.model, inputs, logits)


def test_doubt_start_ids_of_the_word_tokenizer(tokenizer):
    ids = doubt_start_ids(tokenizer)
    assert {tokenizer.decode([i]).strip() for i in ids} == {"Wait", "check", "hmm", "maybe", "perhaps"}
    with pytest.raises(ValueError, match="none of the epistemic words"):
        doubt_start_ids(build_tokenizer(["Start with 1."]))


def test_doubt_start_ids_skip_pieces_that_start_many_words():
    class Pieces:  # a BPE-like tokenizer: " wait" whole, "hmm" from "h" + "mm", " maybe" from " ma" + "ybe"
        unk_token_id, all_special_ids = 0, [0]
        vocab = {" wait": 1, "h": 2, "mm": 3, " ma": 4, "ybe": 5, "Wait": 6, "alternatively": 7}

        def encode(self, text, add_special_tokens=False):
            if text in self.vocab:
                return [self.vocab[text]]
            return {"hmm": [2, 3], " maybe": [4, 5]}.get(text, [0])

        def decode(self, ids):
            return {v: k for k, v in self.vocab.items()}[ids[0]]

    assert doubt_start_ids(Pieces(), EPISTEMIC_WORDS) == [1, 6, 7]


@pytest.mark.parametrize("case", cases())
def test_gradient_wrt_the_doubt_probability_is_zero_everywhere(trainers, tokenizer, case):
    trainer = trainers(case)
    doubt = doubt_start_ids(tokenizer)
    shift = torch.zeros(2, 5, requires_grad=True)
    student, teacher, completion, mask = batch(len(tokenizer), doubt, shift, seed=case[0] * 10 + int(case[1] * 2),
                                               teacher_doubt=-3.0)
    old = torch.log_softmax(student.detach(), -1).gather(-1, completion.unsqueeze(-1)).squeeze(-1) - 0.1
    (grad,) = torch.autograd.grad(loss(trainer, student, teacher, completion, mask, plain=False, old=old), shift,
                                  retain_graph=True)
    assert torch.allclose(grad, torch.zeros_like(grad), atol=1e-7)
    # plain SDPO on the same batch does move it: the teacher puts less mass on doubt
    (plain,) = torch.autograd.grad(loss(trainer, student, teacher, completion, mask, plain=True, old=old), shift)
    assert plain[mask.bool()].abs().max() > 1e-3
    # while the rest of the student still learns
    student = student.detach().requires_grad_()
    (rest,) = torch.autograd.grad(loss(trainer, student, teacher, completion, mask, plain=False, old=old), student)
    assert rest[0, 0].abs().max() > 1e-4


@pytest.mark.parametrize("case", cases())
def test_equals_plain_sdpo_where_no_doubt_token_has_mass(trainers, tokenizer, case):
    trainer = trainers(case)
    doubt = doubt_start_ids(tokenizer)
    student, teacher, completion, mask = batch(len(tokenizer), doubt, torch.full((2, 5), -200.0), seed=3,
                                               teacher_doubt=-200.0)
    completion[0, 1] = completion[0, 0]  # nor did the student write one
    old = torch.log_softmax(student, -1).gather(-1, completion.unsqueeze(-1)).squeeze(-1) + 0.3
    kept = loss(trainer, student, teacher, completion, mask, plain=False, old=old)
    plain = loss(trainer, student, teacher, completion, mask, plain=True, old=old)
    assert plain > 1e-3
    assert torch.allclose(kept, plain, rtol=1e-5, atol=1e-7)
    # and it is not plain SDPO where doubt has mass
    student, teacher, completion, mask = batch(len(tokenizer), doubt, torch.full((2, 5), 4.0), seed=3,
                                               teacher_doubt=-2.0)
    assert not torch.allclose(loss(trainer, student, teacher, completion, mask, plain=False),
                              loss(trainer, student, teacher, completion, mask, plain=True), rtol=1e-3)


def test_keep_doubt_trains_through_trls_loop_with_a_distillation_signal(tmp_path, tokenizer, monkeypatch):
    """A real training step: rollouts, teacher prompts, the hooked loss with old log-probs (two
    optimizer steps per generation), a nonzero distillation loss and moved weights."""
    monkeypatch.setattr(onpolicy, "binary_reward", lambda world: lambda prompts, completions, **kw: [
        float(len(c[-1]["content"]) % 2 == 0) for c in completions])
    init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_positions=128,
               seed=0).save_pretrained(tmp_path / "base")
    settings = {**SDPO, "max_steps": 2, "optimizer_steps_per_generation": 2, "micro_batch_size": 2}
    trainer = trainer_for("sdpo_s_keepdoubt", settings, AutoModelForCausalLM.from_pretrained(tmp_path / "base"),
                          tokenizer, ROWS, "arith", str(tmp_path / "out"), 0, use_cpu=True)
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    logged = [h["self_distillation/distillation_loss"] for h in trainer.state.log_history
              if "self_distillation/distillation_loss" in h]
    assert logged and max(logged) > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters()))
