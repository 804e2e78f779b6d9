"""A world's problem rows, checked where a stage reads them: every row has the keys stages use
and an answer the world's grader can check. A bad row is an error naming its file and row, never
a sample graded wrong in silence."""
from __future__ import annotations

from pathlib import Path

from selfdistill.io import read_jsonl

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
