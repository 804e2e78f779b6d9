"""On-policy training of the grid (Sections 5-6): SDPO and GRPO from TRL on a binary reward.

SDPO's teacher is the same model shown a sibling's correct rollout; the two templates below make
TRL render exactly the study's on-policy teacher prompt (templates.onpolicy_teacher_prompt).
"""
from __future__ import annotations

from datasets import Dataset

from .metrics import extract_answer
from .worlds import grader

# TRL writes reprompt_template.format(prompt=, solution=solution_template.format(...), feedback="")
SOLUTION_TEMPLATE = "\nCorrect solution:\n\n{successful_previous_attempt}"
REPROMPT_TEMPLATE = "{prompt}{solution}{feedback}\n\nCorrectly solve the original question."

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


def _common(s: dict, output_dir: str, seed: int, use_cpu: bool, enable_thinking: bool | None) -> dict:
    common = dict(
        output_dir=output_dir, seed=seed, learning_rate=s["learning_rate"], max_steps=s["max_steps"],
        warmup_steps=s["warmup_steps"], lr_scheduler_type="constant_with_warmup",
        per_device_train_batch_size=s["batch_size"], num_generations=s["num_generations"],
        temperature=s["temperature"], top_p=1.0, top_k=0, max_completion_length=s["max_completion_length"],
        save_strategy="steps", save_steps=s["checkpoint_interval"], save_only_model=False, logging_steps=1,
        report_to="none", bf16=False, use_cpu=use_cpu, dataloader_pin_memory=False)
    if enable_thinking is not None:  # rollouts render prompts as the evaluations do
        common["chat_template_kwargs"] = {"enable_thinking": enable_thinking}
    return common


def trainer_for(method: str, s: dict, model, tokenizer, rows: list[dict], world: str, output_dir: str,
                seed: int, use_cpu: bool, enable_thinking: bool | None = None):
    """An SDPOTrainer or GRPOTrainer for `method` with settings `s` (one grid.train entry)."""
    if method not in ONPOLICY:
        raise ValueError(f"method={method!r}: on-policy methods are {', '.join(map(repr, ONPOLICY))}")
    kind, richness = ONPOLICY[method]
    common = _common(s, output_dir, seed, use_cpu, enable_thinking)
    if kind == "grpo":
        from trl import GRPOConfig, GRPOTrainer

        args = GRPOConfig(**common, epsilon=s["epsilon"], epsilon_high=s["epsilon_high"],
                          scale_rewards=s["scale_rewards"], beta=s["beta"])
        trainer_cls = GRPOTrainer
    else:
        from trl.experimental.sdpo import SDPOConfig, SDPOTrainer

        args = SDPOConfig(
            **common, distillation_mode=s["distillation_mode"], distillation_topk=s["distillation_topk"],
            distillation_add_tail=s["distillation_add_tail"], distillation_alpha=s["distillation_alpha"],
            distillation_is_clip=s["distillation_is_clip"], teacher_model_kind=s["teacher_model_kind"],
            teacher_update_rate=s["teacher_update_rate"], success_reward_threshold=s["success_reward_threshold"],
            dont_reprompt_on_self_success=s["dont_reprompt_on_self_success"],
            remove_thinking_from_demonstration=richness == "s_nothink",
            reprompt_template=REPROMPT_TEMPLATE, solution_template=SOLUTION_TEMPLATE)
        trainer_cls = SDPOTrainer
    return trainer_cls(model=model, reward_funcs=binary_reward(world), args=args,
                       train_dataset=prompt_dataset(rows), processing_class=tokenizer)
