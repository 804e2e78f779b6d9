"""SDPO's rollout correction under vLLM, with a stand-in vLLM whose log-probabilities differ from
the training model's: each token's weight is min(pi_train / pi_vLLM, cap), the gradient is that of
TRL's loss with each token's term times its weight, and where the two models agree (weight 1) the
loss and gradient are TRL's own. With transformers' generate, or the cap unset, nothing changes."""
import math
import types

import pytest
import torch
from transformers import AutoModelForCausalLM
from trl.experimental.sdpo.loss_utils import compute_topk_self_distillation_loss
from trl.experimental.sdpo.sdpo_trainer import DistillationLogits

from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.training.onpolicy import trainer_for
from selfdistill.training.rollout_correction import WEIGHTS, rollout_weights

SDPO = {"learning_rate": 1e-3, "max_steps": 1, "warmup_steps": 0, "batch_size": 4, "num_generations": 2,
        "temperature": 0.7, "max_completion_length": 6, "checkpoint_interval": 1,
        "distillation_mode": "topk_logits", "distillation_topk": 5, "distillation_add_tail": True,
        "distillation_alpha": 0.5, "distillation_is_clip": 2.0, "teacher_model_kind": "ema",
        "teacher_update_rate": 0.0, "success_reward_threshold": 0.5, "dont_reprompt_on_self_success": True,
        "rollout_is_cap": 2.0}
ROWS = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(i + 2)} for i in range(2)]
# what the stand-in vLLM "samples" for every prompt: four tokens, the last one eos
COMPLETION = ["Add", "2", ".", None]
# pi_train / pi_vLLM per completion token: vLLM less sure, capped, more sure, agreeing
RATIOS = [1.5, 3.0, 0.5, 1.0]


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    tokenizer = build_tokenizer([r["prompt"] for r in ROWS])
    base = tmp_path_factory.mktemp("base")
    init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_positions=64,
               seed=0).save_pretrained(base)
    return trainer_for("sdpo_s", SDPO, AutoModelForCausalLM.from_pretrained(base), tokenizer, ROWS, "arith",
                       str(base / "out"), 0, use_cpu=True)


def completion_ids(trainer) -> list[int]:
    tok = trainer.processing_class
    return [tok.convert_tokens_to_ids(t) if t else tok.eos_token_id for t in COMPLETION]


def train_logps(trainer, prompt_ids: list[int]) -> list[float]:
    """The training model's temperature-scaled log-probs of COMPLETION after `prompt_ids`, by hand."""
    ids = prompt_ids + completion_ids(trainer)
    with torch.no_grad():
        logits = trainer.model(torch.tensor([ids])).logits[0, len(prompt_ids) - 1:-1] / SDPO["temperature"]
    return logits.log_softmax(-1).gather(-1, torch.tensor(completion_ids(trainer))[:, None]).squeeze(-1).tolist()


class FakeVLLM:
    """Answers TRL's vLLM generation call with COMPLETION and log-probs off the model's by RATIOS."""

    def __init__(self, trainer):
        self.trainer = trainer

    def sync_weights(self):
        pass

    def generate(self, prompts, images, num_generations, profiler=None):
        prompts = [p for p in prompts for _ in range(num_generations)]
        logprobs = [[[lp - math.log(r)] for lp, r in zip(train_logps(self.trainer, p), RATIOS)] for p in prompts]
        return prompts, [completion_ids(self.trainer)] * len(prompts), logprobs, None


def rollouts(trainer, monkeypatch, use_vllm=True, cap=2.0):
    monkeypatch.setattr(trainer, "use_vllm", use_vllm)
    monkeypatch.setattr(trainer, "vllm_generation", FakeVLLM(trainer), raising=False)
    monkeypatch.setattr(trainer, "rollout_is_cap", cap)
    with torch.no_grad():
        return trainer.sample_rollouts([{"prompt": [{"role": "user", "content": r["prompt"]}]} for r in ROWS])


def test_weights_are_the_capped_ratio_of_the_training_model_to_vllm(trainer, monkeypatch):
    batch = rollouts(trainer, monkeypatch)
    assert batch["completion_ids"].shape[1] == len(COMPLETION)
    expected = torch.tensor([min(r, 2.0) for r in RATIOS]).expand(len(ROWS) * SDPO["num_generations"], -1)
    assert torch.allclose(batch[WEIGHTS], expected, atol=1e-4)


def test_no_weights_without_vllm_or_without_a_cap(trainer, monkeypatch):
    assert WEIGHTS not in rollouts(trainer, monkeypatch, cap=None)
    assert WEIGHTS not in rollouts(trainer, monkeypatch, use_vllm=False)


def test_rollout_weights_cap_and_missing_logprobs():
    train = torch.tensor([[0.0, -1.0, -2.0, -3.0]])
    vllm = torch.tensor([[math.log(2.0) * -1, -1.0 + math.log(4.0), float("nan"), -1.0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    w = rollout_weights(train, vllm, mask, cap=3.0)
    assert torch.allclose(w, torch.tensor([[2.0, 0.25, 1.0, 1.0]]))
    assert torch.allclose(rollout_weights(train, vllm - 5.0, mask, cap=3.0)[0, :2], torch.tensor([3.0, 3.0]))


def logits_batch(trainer, seed=0):
    g = torch.Generator().manual_seed(seed)
    vocab = trainer.model.config.vocab_size
    student = (torch.randn(2, 4, vocab, generator=g) * 2).requires_grad_()
    teacher = torch.randn(2, 4, vocab, generator=g) * 2
    ids = torch.randint(0, vocab, (2, 4), generator=g)
    mask = torch.tensor([[1.0, 1, 1, 1], [1, 1, 1, 0]])
    return student, DistillationLogits(completion_ids=ids, completion_mask=mask, loss_mask=mask,
                                       student_logits=student, teacher_logits=teacher)


def loss_and_grad(trainer, weights=None):
    student, logits = logits_batch(trainer)
    inputs = {} if weights is None else {WEIGHTS: weights}
    loss = trainer._compute_self_distillation_loss(trainer.model, inputs, logits)
    loss.backward()
    return loss.detach(), student.grad


def test_loss_is_trls_where_the_models_agree(trainer):
    from trl.experimental.sdpo import SDPOTrainer

    student, logits = logits_batch(trainer)
    trl_loss = SDPOTrainer._compute_self_distillation_loss(trainer, trainer.model, {}, logits)
    trl_loss.backward()
    loss, grad = loss_and_grad(trainer, torch.ones(2, 4))
    assert torch.equal(loss, trl_loss.detach()) and torch.equal(grad, student.grad)


def test_gradient_weights_each_tokens_loss(trainer):
    weights = torch.tensor([[1.5, 2.0, 0.5, 1.0], [0.25, 1.0, 2.0, 1.0]])
    _, grad = loss_and_grad(trainer, weights)
    student, logits = logits_batch(trainer)
    # the official loss: each token's divergence times its weight, the token mean within each
    # sequence, then the mean over sequences
    per_token = compute_topk_self_distillation_loss(student, logits.teacher_logits, distillation_topk=5,
                                                    distillation_alpha=0.5, distillation_add_tail=True)
    mask = logits.loss_mask
    ((per_token * weights * mask).sum(-1) / mask.sum(-1)).mean().backward()
    assert torch.allclose(grad, student.grad, atol=1e-6)
    assert not torch.allclose(grad, loss_and_grad(trainer)[1], atol=1e-4)  # the weights did act
