"""On-policy training as the study steps it: prompts over the length limit dropped, the teacher
prompt cut on the right and counted, one generation feeding several optimizer steps with the
generating policy's log-probs kept, the EMA teacher moving once per generation and surviving a
resume."""
import pytest
import torch
from transformers import AutoModelForCausalLM, TrainerCallback
from trl.trainer.callbacks import SyncRefModelCallback

import selfdistill.training.onpolicy as onpolicy
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.training.onpolicy import TRUNCATED_KEY, drop_long_prompts, trainer_for
from selfdistill.training.teacher_checkpoint import TEACHER_FILE

COMMON = {"learning_rate": 1e-3, "max_steps": 4, "warmup_steps": 0, "batch_size": 4, "num_generations": 2,
          "temperature": 1.0, "max_completion_length": 6, "checkpoint_interval": 2}
SDPO = {**COMMON, "distillation_mode": "topk_logits", "distillation_topk": 5, "distillation_add_tail": True,
        "distillation_alpha": 0.5, "distillation_is_clip": 2.0, "teacher_model_kind": "ema",
        "teacher_update_rate": 0.0, "success_reward_threshold": 0.5, "dont_reprompt_on_self_success": True}
GRPO = {**COMMON, "epsilon": 0.2, "epsilon_high": 0.28, "scale_rewards": "none", "beta": 0.0}
ROWS = [{"problem_id": f"p{i}", "prompt": f"Start with {i}. (1) Add 2.", "answer": str(i + 2)} for i in range(4)]


@pytest.fixture
def tiny(tmp_path):
    """A tiny model saved to disk (SDPO builds its teacher from the model's folder) and its tokenizer."""
    tokenizer = build_tokenizer([r["prompt"] + " \\boxed{12} Correct solution: Correctly solve the original question."
                                 for r in ROWS])
    init_model(tokenizer, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_positions=256,
               seed=0).save_pretrained(tmp_path / "base")
    return lambda: AutoModelForCausalLM.from_pretrained(tmp_path / "base"), tokenizer


@pytest.fixture
def some_correct(monkeypatch):
    """A reward that passes rollouts of even length, so SDPO groups have demonstrations and the
    student moves (the tiny model never writes the right answer)."""
    def reward(world):
        return lambda prompts, completions, **kw: [float(len(c[-1]["content"]) % 2 == 0) for c in completions]

    monkeypatch.setattr(onpolicy, "binary_reward", reward)


def test_prompts_over_the_limit_are_dropped_not_truncated(tiny):
    _, tokenizer = tiny
    long_row = {"problem_id": "long", "prompt": "Start with 1. " * 30, "answer": "1"}
    lengths = [len(tokenizer.apply_chat_template([{"role": "user", "content": r["prompt"]}],
                                                 add_generation_prompt=True, tokenize=True, return_dict=True)
                   ["input_ids"]) for r in ROWS]
    kept = drop_long_prompts([*ROWS, long_row], tokenizer, max(lengths), {})
    assert kept == ROWS
    assert drop_long_prompts([*ROWS, long_row], tokenizer, None, {}) == [*ROWS, long_row]
    with pytest.raises(ValueError, match="max_prompt_length=3"):
        drop_long_prompts(ROWS, tokenizer, 3, {})


def test_teacher_prompt_keeps_its_start_when_cut(tiny, tmp_path):
    model, tokenizer = tiny
    trainer = trainer_for("sdpo_s", {**SDPO, "max_teacher_prompt_length": 12}, model(), tokenizer, ROWS, "arith",
                          str(tmp_path), 0, use_cpu=True)
    message = [{"role": "user", "content": ROWS[1]["prompt"] + " Correct solution:" + " Add 2." * 40}]
    full = trainer._tokenize_prompts_untruncated([message])[0]
    out = trainer.teacher_context_builder._tokenize_teacher_messages([message, [{"role": "user", "content": "Add"}]])
    first = out["prompt_ids"][0][out["prompt_mask"][0].bool()].tolist()
    assert first == full[:12]  # the chat template's start and the problem, not the end of the demonstration
    assert trainer.teacher_context_builder.truncated == 1
    # the student's prompts are not cut at TRL's default of 512 tokens unless a limit is set
    assert trainer.args.max_prompt_length is None


def test_training_log_counts_cut_teacher_prompts(tiny, tmp_path, some_correct):
    model, tokenizer = tiny
    trainer = trainer_for("sdpo_s", {**SDPO, "max_steps": 1, "max_teacher_prompt_length": 8}, model(), tokenizer,
                          ROWS, "arith", str(tmp_path), 0, use_cpu=True)
    trainer.train()
    [logged] = [h[TRUNCATED_KEY] for h in trainer.state.log_history if TRUNCATED_KEY in h]
    assert logged == 4  # every prompt of the generation is longer than 8 tokens


class Spy:
    def __init__(self, monkeypatch):
        self.syncs = 0
        original = SyncRefModelCallback._sync_target_model

        def counted(model, target, alpha):
            self.syncs += 1
            original(model, target, alpha)

        monkeypatch.setattr(SyncRefModelCallback, "_sync_target_model", staticmethod(counted))


@pytest.mark.parametrize("method", ["sdpo_s_ema", "grpo"])
def test_one_generation_feeds_two_optimizer_steps_with_old_logprobs(tiny, tmp_path, monkeypatch, some_correct,
                                                                     method):
    model, tokenizer = tiny
    settings = {**(GRPO if method == "grpo" else {**SDPO, "teacher_update_rate": 0.05}),
                "optimizer_steps_per_generation": 2, "micro_batch_size": 2}
    trainer = trainer_for(method, settings, model(), tokenizer, ROWS, "arith", str(tmp_path), 0, use_cpu=True)
    spy, batches = Spy(monkeypatch), []
    make = trainer._generate_and_score_completions if method == "grpo" else trainer._prepare_training_batch

    def recorded(inputs):
        batch = make(inputs)
        batches.append(batch)
        return batch

    monkeypatch.setattr(trainer, make.__name__, recorded)
    trainer.train()
    assert trainer.state.global_step == 4
    assert len(batches) == 2  # one generation per two optimizer steps
    assert all(len(b["completion_ids"]) == 8 for b in batches)  # 2 optimizer steps x 4 completions
    # the ratios of the second step's tokens are against the generating policy, so the clips act
    assert all(b.get("old_per_token_logps") is not None for b in batches)
    assert spy.syncs == (2 if method == "sdpo_s_ema" else 0)  # the teacher moves once per generation


class TeacherAt(TrainerCallback):
    """The teacher's weights when training begins and after each step's EMA update."""

    def __init__(self, trainer):
        self.trainer, self.seen = trainer, {}

    def _keep(self, step):
        self.seen[step] = {k: v.detach().clone() for k, v in self.trainer.teacher_model.state_dict().items()}

    def on_train_begin(self, args, state, control, **kwargs):
        self._keep(f"begin{state.global_step}")

    def on_step_end(self, args, state, control, **kwargs):
        self._keep(state.global_step)


def test_moving_teacher_survives_a_resume(tiny, tmp_path, some_correct):
    fresh_model, tokenizer = tiny
    base = fresh_model().state_dict()
    ema = {**SDPO, "teacher_update_rate": 0.5}

    def run(out, settings, resume=None):
        trainer = trainer_for("sdpo_s_ema", settings, fresh_model(), tokenizer, ROWS, "arith", str(tmp_path / out), 0,
                              use_cpu=True)
        trainer.add_callback(seen := TeacherAt(trainer))
        trainer.train(resume_from_checkpoint=resume)
        return seen.seen

    whole = run("whole", ema)
    # the killed job got as far as its checkpoint at step 2; the rerun resumes from it
    run("resumed", {**ema, "max_steps": 2})
    assert (tmp_path / "resumed/checkpoint-2" / TEACHER_FILE).exists()
    resumed = run("resumed", ema, str(tmp_path / "resumed/checkpoint-2"))

    def distance(a, b):
        return max((a[k] - b[k]).abs().max().item() for k in a)

    assert distance(whole[2], base) > 1e-4  # the teacher moved in the first two steps
    # and resumes exactly where the uninterrupted run had it; later steps are not compared, since
    # the trainer's own resume samples other rollouts than an uninterrupted run at this level
    assert distance(resumed["begin2"], whole[2]) == 0


def test_a_checkpoint_without_its_teacher_is_not_resumed(tiny, tmp_path, some_correct):
    model, tokenizer = tiny
    ema = {**SDPO, "teacher_update_rate": 0.5, "max_steps": 2}
    trainer_for("sdpo_s_ema", ema, model(), tokenizer, ROWS, "arith", str(tmp_path), 0, use_cpu=True).train()
    (tmp_path / "checkpoint-2" / TEACHER_FILE).unlink()
    again = trainer_for("sdpo_s_ema", {**ema, "max_steps": 4}, model(), tokenizer, ROWS, "arith", str(tmp_path), 0,
                        use_cpu=True)
    with pytest.raises(FileNotFoundError, match="checkpoint-2"):
        again.train(resume_from_checkpoint=str(tmp_path / "checkpoint-2"))
