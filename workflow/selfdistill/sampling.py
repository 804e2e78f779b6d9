"""Sample completions for a list of prompts and grade each one."""
from __future__ import annotations

from .generation import Generator, SamplingParams, render_chat
from .metrics import extract_answer, total_epistemic
from .worlds import Grader


def sample_and_grade(gen: Generator, items: list[dict], params: SamplingParams, grade: Grader,
                     enable_thinking: bool | None = None) -> list[dict]:
    """`items` hold `problem_id`, `prompt` (the user message) and `answer`; returns one row per
    completion with its text, length, extracted prediction and correctness."""
    prompts = [render_chat(gen.tokenizer, it["prompt"], enable_thinking) for it in items]
    rows = []
    for item, completions in zip(items, gen.generate(prompts, params)):
        for j, c in enumerate(completions):
            prediction = extract_answer(c.text)
            rows.append({"problem_id": item["problem_id"], "sample": j, "text": c.text,
                         "num_tokens": c.num_tokens, "finished": c.finished, "prediction": prediction,
                         "correct": grade(prediction, item["answer"]),
                         "epistemic": total_epistemic(c.text)})
    return rows
