"""On-policy training of the grid (Sections 5-6): SDPO and GRPO from TRL on a binary reward.

SDPO's teacher is the same model shown a sibling's correct rollout, in the study's on-policy
teacher prompt (`teacher_prompt`).
"""
from __future__ import annotations

from datasets import Dataset

from .metrics import extract_answer, strip_thinking
from .parallel import batch_layout
from .templates import onpolicy_teacher_prompt
from .worlds import grader

# method -> (trainer, richness of the teacher's context); SFT methods live in sft.py
ONPOLICY = {"sdpo_s": ("sdpo", "s"), "sdpo_s_nothink": ("sdpo", "s_nothink"), "sdpo_s_ema": ("sdpo", "s"),
            "grpo": ("grpo", "none")}


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


def teacher_prompt(prompt: str, demo: str, richness: str) -> str:
    """The study's on-policy teacher prompt showing a sibling's correct rollout `demo`, whole
    (c = s) or with its thinking stripped (c = s_nothink), a bare </think> included."""
    return onpolicy_teacher_prompt(prompt, strip_thinking(demo) if richness == "s_nothink" else demo)


def use_teacher_prompt(trainer, richness: str) -> None:
    """Make an SDPOTrainer render `teacher_prompt`. TRL's remove_thinking_from_demonstration only
    removes whole <think>...</think> blocks, and R1-Distill rollouts hold just the closing tag
    (the template opens <think> in the prompt), so the builder's rendering hook is replaced. With
    solution_template "{successful_previous_attempt}" the hook receives the decoded rollout as
    is; environment feedback, its third argument, is off in every run."""
    from trl.experimental.sdpo.sdpo_trainer import SuccessfulRolloutTeacherContextBuilder

    class StudyTeacherContext(SuccessfulRolloutTeacherContextBuilder):
        def _build_reprompt_text(self, prompt_text: str, solution_text: str, feedback_text: str) -> str:
            return teacher_prompt(prompt_text, solution_text, richness)

    trainer.teacher_context_builder = StudyTeacherContext(trainer)


def _rollouts(s: dict) -> dict:
    """TRL's vLLM rollouts where the method's settings ask for them; transformers' generate else."""
    v = s.get("vllm")
    if v is None:
        return {}
    # colocate: vLLM runs inside each training process on its GPU; server mode would need a
    # separately started `trl vllm-serve` that no pipeline job manages
    return dict(use_vllm=True, vllm_mode="colocate", vllm_gpu_memory_utilization=v["gpu_memory_utilization"],
                vllm_max_model_length=v.get("max_model_length"), vllm_enable_sleep_mode=v.get("sleep_mode", False))


def _common(s: dict, output_dir: str, seed: int, use_cpu: bool, enable_thinking: bool | None) -> dict:
    common = dict(
        output_dir=output_dir, seed=seed, learning_rate=s["learning_rate"], max_steps=s["max_steps"],
        warmup_steps=s["warmup_steps"], lr_scheduler_type="constant_with_warmup",
        **batch_layout(s["batch_size"], s.get("micro_batch_size")), num_generations=s["num_generations"],
        temperature=s["temperature"], top_p=1.0, top_k=0, max_completion_length=s["max_completion_length"],
        save_strategy="steps", save_steps=s["checkpoint_interval"], save_only_model=False, logging_steps=1,
        report_to="none", bf16=False, use_cpu=use_cpu, dataloader_pin_memory=False,
        gradient_checkpointing=s.get("gradient_checkpointing", False), **_rollouts(s))
    if enable_thinking is not None:  # rollouts render prompts as the evaluations do
        common["chat_template_kwargs"] = {"enable_thinking": enable_thinking}
    return common


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
                          scale_rewards=s["scale_rewards"], beta=s["beta"])
    from trl.experimental.sdpo import SDPOConfig

    return SDPOConfig(
        **common, distillation_mode=s["distillation_mode"], distillation_topk=s["distillation_topk"],
        distillation_add_tail=s["distillation_add_tail"], distillation_alpha=s["distillation_alpha"],
        distillation_is_clip=s["distillation_is_clip"], teacher_model_kind=s["teacher_model_kind"],
        teacher_update_rate=s["teacher_update_rate"], success_reward_threshold=s["success_reward_threshold"],
        dont_reprompt_on_self_success=s["dont_reprompt_on_self_success"],
        solution_template="{successful_previous_attempt}")


def trainer_for(method: str, s: dict, model, tokenizer, rows: list[dict], world: str, output_dir: str,
                seed: int, use_cpu: bool, enable_thinking: bool | None = None):
    """An SDPOTrainer or GRPOTrainer for `method` with settings `s` (one grid.train entry)."""
    args = training_args(method, s, output_dir, seed, use_cpu, enable_thinking)
    if ONPOLICY[method][0] == "grpo":
        from trl import GRPOTrainer as trainer_cls
    else:
        from trl.experimental.sdpo import SDPOTrainer as trainer_cls
    trainer = trainer_cls(model=model, reward_funcs=binary_reward(world), args=args,
                          train_dataset=prompt_dataset(rows), processing_class=tokenizer)
    if ONPOLICY[method][0] == "sdpo":
        use_teacher_prompt(trainer, ONPOLICY[method][1])
    return trainer
