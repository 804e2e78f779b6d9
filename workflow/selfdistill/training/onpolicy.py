"""On-policy training of the grid (Sections 5-6): SDPO and GRPO from TRL on a binary reward.

SDPO's teacher is the same model shown a sibling's correct rollout, in the study's on-policy
teacher prompt (`teacher_prompt`), cut on the right where it is too long. One generation of
rollouts can feed several optimizer steps (the study's step: one generation, two mini-batches).
On a CPU the rollouts are decoded as the project's generator decodes (training/rollouts.py).
"""
from __future__ import annotations

import functools
import logging

from datasets import Dataset

from selfdistill.data.arith import without_checks
from selfdistill.data.templates import DOUBTFUL_INSTRUCTION, onpolicy_teacher_prompt
from selfdistill.data.worlds import grader
from selfdistill.evaluation.metrics import extract_answer, strip_thinking
from selfdistill.training.parallel import SDPOOverProcesses, batch_layout
from selfdistill.training.rollout_correction import RolloutCorrectedSDPO
from selfdistill.training.rollouts import segmented
from selfdistill.training.teacher_checkpoint import TeacherCheckpoint
from selfdistill.training.tracking import trainer_args

# method -> (trainer, richness of the teacher's context); SFT methods live in sft.py
# (sdpo_s_keepdoubt: c = s, its loss unable to move the student's probability of starting to doubt;
# sdpo_s_doubtful: c = s rendered so that the teacher still doubts, see `teacher_prompt`)
ONPOLICY = {"sdpo_s": ("sdpo", "s"), "sdpo_s_nothink": ("sdpo", "s_nothink"), "sdpo_s_ema": ("sdpo", "s"),
            "sdpo_s_keepdoubt": ("sdpo", "s"), "sdpo_s_doubtful": ("sdpo", "s_doubtful"), "grpo": ("grpo", "none")}


def prompt_dataset(rows: list[dict]) -> Dataset:
    """Prompt-only conversational rows; `answer` reaches the reward function as a column."""
    return Dataset.from_list([{"prompt": [{"role": "user", "content": r["prompt"]}], "answer": r["answer"]}
                              for r in rows])


def binary_reward(world: str):
    """1.0 when the completion's boxed answer is right under the world's grader, else 0.0."""
    grade = grader(world)

    def correct(prompts, completions, answer, **kwargs) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [float(grade(extract_answer(t), a)) for t, a in zip(texts, answer)]

    return correct


def teacher_prompt(prompt: str, demo: str, richness: str, world: str = "arith") -> str:
    """The study's on-policy teacher prompt showing a sibling's correct rollout `demo`, whole
    (c = s) or with its thinking stripped (c = s_nothink), a bare </think> included.

    c = s_doubtful is c = s for a teacher that still verbalizes doubt. The arithmetic world's
    model copies a solution that shows its checks and re-derives, doubting, some hard steps of
    one that shows none (arith_corpus), so there the demonstration's checks are removed; a real
    model is told to verify its hard steps instead."""
    if richness == "s_nothink":
        return onpolicy_teacher_prompt(prompt, strip_thinking(demo))
    if richness == "s_doubtful":
        if world == "arith":
            return onpolicy_teacher_prompt(prompt, without_checks(demo))
        return onpolicy_teacher_prompt(prompt, demo) + DOUBTFUL_INSTRUCTION
    return onpolicy_teacher_prompt(prompt, demo)


TRUNCATED_KEY = "self_distillation/teacher_prompts_truncated"


def use_teacher_prompt(trainer, richness: str, max_length: int | None = None, world: str = "arith") -> None:
    """Make an SDPOTrainer render `teacher_prompt`, cut on the right to `max_length` tokens (None:
    never), as the study's official code does: the problem and the start of the demonstration
    stay. TRL keeps the last max_reprompt_len tokens instead, which drops the problem and the
    chat template's start from a long c = s prompt. How many prompts were cut is logged per step
    under TRUNCATED_KEY.

    TRL's remove_thinking_from_demonstration only removes whole <think>...</think> blocks, and
    R1-Distill rollouts hold just the closing tag (the template opens <think> in the prompt), so
    the builder's rendering hook is replaced. With solution_template "{successful_previous_attempt}"
    the hook receives the decoded rollout as is; environment feedback, its third argument, is off
    in every run."""
    import torch
    from trl.experimental.sdpo.sdpo_trainer import SuccessfulRolloutTeacherContextBuilder
    from trl.trainer.utils import pad

    class StudyTeacherContext(SuccessfulRolloutTeacherContextBuilder):
        truncated = 0

        def _build_reprompt_text(self, prompt_text: str, solution_text: str, feedback_text: str) -> str:
            return teacher_prompt(prompt_text, solution_text, richness, world)

        def _tokenize_teacher_messages(self, teacher_messages_list) -> dict:
            device = self.trainer.accelerator.device
            ids = self.trainer._tokenize_prompts_untruncated(teacher_messages_list)
            self.truncated = sum(len(i) > max_length for i in ids) if max_length else 0
            ids = [torch.as_tensor(i[:max_length], device=device) for i in ids]
            return {"prompt_ids": pad(ids, padding_value=self.trainer._tokenizer.pad_token_id, padding_side="left"),
                    "prompt_mask": pad([torch.ones_like(i) for i in ids], padding_value=0, padding_side="left")}

        def build(self, *args, **kwargs) -> dict:
            out = super().build(*args, **kwargs)
            count = torch.tensor([self.truncated], device=self.trainer.accelerator.device)
            total = int(self.trainer.accelerator.gather(count).sum().item())
            if total:
                logging.info("%d teacher prompts of this generation cut to %d tokens", total, max_length)
            self.last_metrics[TRUNCATED_KEY] = float(total)
            return out

    trainer.teacher_context_builder = StudyTeacherContext(trainer)


def drop_long_prompts(rows: list[dict], tokenizer, max_length: int | None, chat_kwargs: dict) -> list[dict]:
    """The rows whose prompt, rendered for generation, has at most `max_length` tokens (None: all),
    as the study's data filter drops longer ones rather than truncating them."""
    if max_length is None:
        return rows
    kept = [r for r in rows if len(tokenizer.apply_chat_template(
        [{"role": "user", "content": r["prompt"]}], add_generation_prompt=True, tokenize=True, return_dict=True,
        **chat_kwargs)["input_ids"]) <= max_length]
    if not kept:
        raise ValueError(f"max_prompt_length={max_length}: every one of the {len(rows)} training prompts is longer")
    logging.info("dropped %d of %d training prompts longer than max_prompt_length=%d tokens",
                 len(rows) - len(kept), len(rows), max_length)
    return kept


def _rollouts(s: dict) -> dict:
    """TRL's vLLM rollouts where the method's settings ask for them; transformers' generate else."""
    v = s.get("vllm")
    if v is None:
        return {}
    # colocate: vLLM runs inside each training process on its GPU; server mode would need a
    # separately started `trl vllm-serve` that no pipeline job manages
    return dict(use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=v["gpu_memory_utilization"],
                vllm_max_model_length=v.get("max_model_length"), vllm_enable_sleep_mode=v.get("sleep_mode", False))


def _generation_layout(s: dict) -> dict:
    """Optimizer steps of batch_size completions each fed by one generation. TRL counts
    steps_per_generation in forward passes (gradient accumulation included), so k optimizer steps
    per generation are k x gradient_accumulation_steps of them; with k > 1 TRL keeps the
    generating policy's log-probs ("old"), and the clips act on every step after the first."""
    layout = batch_layout(s["batch_size"], s.get("micro_batch_size"))
    k = s.get("optimizer_steps_per_generation", 1)
    return {**layout, "steps_per_generation": k * layout["gradient_accumulation_steps"]}


def _common(s: dict, output_dir: str, seed: int, use_cpu: bool, enable_thinking: bool | None) -> dict:
    common = dict(
        output_dir=output_dir, seed=seed, learning_rate=s["learning_rate"], max_steps=s["max_steps"],
        warmup_steps=s["warmup_steps"], lr_scheduler_type="constant_with_warmup",
        **_generation_layout(s), num_generations=s["num_generations"],
        temperature=s["temperature"], top_p=1.0, top_k=0, max_completion_length=s["max_completion_length"],
        save_strategy="steps", save_steps=s["checkpoint_interval"], save_only_model=False, logging_steps=1,
        **trainer_args(), bf16=False, use_cpu=use_cpu, dataloader_pin_memory=False,
        gradient_checkpointing=s.get("gradient_checkpointing", False), **_rollouts(s))
    if enable_thinking is not None:  # rollouts render prompts as the evaluations do
        common["chat_template_kwargs"] = {"enable_thinking": enable_thinking}
    return common


def _grpo_loss(s: dict) -> dict:
    """GRPOConfig's loss settings that `s` names; TRL's defaults for the others."""
    out = {k: s[k] for k in ("loss_type",) if k in s}
    if "dual_clip" in s:  # TRL's delta caps the ratio, which for a negative advantage is the dual clip
        out["delta"] = s["dual_clip"]
    if "rollout_is_cap" in s:
        cap = s["rollout_is_cap"]
        out.update(vllm_importance_sampling_correction=cap is not None, vllm_importance_sampling_mode="token_truncate",
                   vllm_importance_sampling_clip_max=cap)
    return out


def training_args(method: str, s: dict, output_dir: str, seed: int, use_cpu: bool,
                  enable_thinking: bool | None = None):
    """The GRPOConfig or SDPOConfig for `method` with settings `s` (one grid.train entry)."""
    if method not in ONPOLICY:
        raise ValueError(f"method={method!r}: on-policy methods are {', '.join(map(repr, ONPOLICY))}")
    kind, richness = ONPOLICY[method]
    common = _common(s, output_dir, seed, use_cpu, enable_thinking)
    if kind == "grpo":
        from trl import GRPOConfig

        return GRPOConfig(**common, epsilon=s["epsilon"], epsilon_high=s["epsilon_high"],
                          scale_rewards=s["scale_rewards"], beta=s["beta"], **_grpo_loss(s))
    from trl.experimental.sdpo import SDPOConfig

    teacher = {"max_reprompt_len": s["max_teacher_prompt_length"]} if s.get("max_teacher_prompt_length") else {}
    return SDPOConfig(
        **common, **teacher, max_prompt_length=s.get("max_prompt_length"),
        # the EMA teacher moves once per generation, as the study's once per step
        teacher_sync_steps=s.get("optimizer_steps_per_generation", 1),
        distillation_mode=s["distillation_mode"], distillation_topk=s["distillation_topk"],
        distillation_add_tail=s["distillation_add_tail"], distillation_alpha=s["distillation_alpha"],
        distillation_is_clip=s["distillation_is_clip"], teacher_model_kind=s["teacher_model_kind"],
        teacher_update_rate=s["teacher_update_rate"], success_reward_threshold=s["success_reward_threshold"],
        dont_reprompt_on_self_success=s["dont_reprompt_on_self_success"],
        solution_template="{successful_previous_attempt}")


@functools.cache
def rollout_corrected(trainer_cls: type) -> type:
    """`trainer_cls` (an SDPOTrainer) with the study's rollout correction under vLLM, able to
    train over several processes."""
    return type(f"RolloutCorrected{trainer_cls.__name__}", (SDPOOverProcesses, RolloutCorrectedSDPO, trainer_cls), {})


def trainer_for(method: str, s: dict, model, tokenizer, rows: list[dict], world: str, output_dir: str,
                seed: int, use_cpu: bool, enable_thinking: bool | None = None):
    """An SDPOTrainer or GRPOTrainer for `method` with settings `s` (one grid.train entry)."""
    args = training_args(method, s, output_dir, seed, use_cpu, enable_thinking)
    if ONPOLICY[method][0] == "grpo":
        from trl import GRPOTrainer as trainer_cls
    elif method == "sdpo_s_keepdoubt":
        from selfdistill.training.keep_doubt import keep_doubt_trainer

        trainer_cls = keep_doubt_trainer()
    else:
        from trl.experimental.sdpo import SDPOTrainer as trainer_cls
    if ONPOLICY[method][0] == "sdpo":
        trainer_cls = rollout_corrected(trainer_cls)
    trainer_cls = segmented(trainer_cls)
    rows = drop_long_prompts(rows, tokenizer, s.get("max_prompt_length"), args.chat_template_kwargs or {})
    trainer = trainer_cls(model=model, reward_funcs=binary_reward(world), args=args,
                          train_dataset=prompt_dataset(rows), processing_class=tokenizer)
    if ONPOLICY[method][0] == "sdpo":
        # with transformers' generate the rollouts are the training model's own: no correction
        trainer.rollout_is_cap = s.get("rollout_is_cap") if args.use_vllm else None
        use_teacher_prompt(trainer, ONPOLICY[method][1], s.get("max_teacher_prompt_length"), world)
        if s["teacher_model_kind"] == "ema" and s["teacher_update_rate"] > 0:
            trainer.add_callback(TeacherCheckpoint(trainer))
    return trainer
