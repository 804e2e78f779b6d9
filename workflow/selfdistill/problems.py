"""A world's problem rows, checked where a stage reads them: every row has the keys stages use,
an answer the world's grader can check, and a prompt the model can hold. A bad row is an error
naming its file and row, never a sample graded wrong in silence."""
from __future__ import annotations

from pathlib import Path

from .generation import render_chat
from .io import read_jsonl

KEYS = ("problem_id", "prompt", "answer")


def _answer_problem(world: str, answer) -> str | None:
    """What is wrong with `answer` as one of `world`'s answers; None when it can be graded."""
    if isinstance(answer, bool) or not isinstance(answer, (str, int)):
        return f"is {type(answer).__name__ if answer is not None else 'null'}, not a string"
    if world == "arith":
        try:
            int(str(answer).strip())
        except ValueError:
            return "is not an integer, and the arithmetic world's answers are integers"
    elif not str(answer).strip():
        return "is empty"
    return None


def read_problems(path: str | Path, world: str) -> list[dict]:
    """The rows of a JSONL problem file, each checked for `world`."""
    rows = read_jsonl(path)
    for number, row in enumerate(rows, 1):
        missing = [k for k in KEYS if k not in row]
        if missing:
            raise ValueError(f"{path}, row {number}: missing {', '.join(missing)}; every problem row needs "
                             f"{', '.join(KEYS)}")
        problem = _answer_problem(world, row["answer"])
        if problem:
            raise ValueError(f"{path}, row {number} (problem_id {row['problem_id']!r}): answer {row['answer']!r} "
                             f"{problem}")
    return rows


def max_positions(model_dir: str | Path) -> int | None:
    """The longest sequence the model in `model_dir` was built for; None where it states none."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    return getattr(config.get_text_config(), "max_position_embeddings", None)


def check_prompt_lengths(rows: list[dict], path: str | Path, tokenizer, limit: int | None,
                         enable_thinking: bool | None = None) -> None:
    """Stop at the first prompt that, rendered as the model sees it, has more tokens than `limit`."""
    if limit is None:
        return
    for number, row in enumerate(rows, 1):
        n = len(tokenizer(render_chat(tokenizer, row["prompt"], enable_thinking), add_special_tokens=False).input_ids)
        if n > limit:
            raise ValueError(f"{path}, row {number} (problem_id {row['problem_id']!r}): the prompt has {n} tokens "
                             f"({len(row['prompt'])} characters), more than the model's {limit} positions")
