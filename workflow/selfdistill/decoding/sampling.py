"""Sample completions for a list of prompts and grade each one."""
from __future__ import annotations

from pathlib import Path

from selfdistill.data.worlds import Grader
from selfdistill.decoding.generation import Generator, SamplingParams, render_chat
from selfdistill.evaluation.metrics import extract_answer, total_epistemic
from selfdistill.lineage.provenance import hash_path, read_record


def sample_and_grade(gen: Generator, items: list[dict], params: SamplingParams, grade: Grader,
                     enable_thinking: bool | None = None) -> list[dict]:
    """`items` hold `problem_id`, `prompt` (the user message) and `answer`; returns one row per
    completion, as evaluation harnesses keep them: the prompt's id, the gold answer (`target`),
    the text and its length, the extracted answer (`prediction`) and its grade (`correct`)."""
    prompts = [render_chat(gen.tokenizer, it["prompt"], enable_thinking) for it in items]
    # keyed by problem, a completion's draws are the same whichever problems share its call
    completions_of = gen.generate(prompts, params, keys=[it["problem_id"] for it in items])
    rows = []
    for item, completions in zip(items, completions_of):
        for j, c in enumerate(completions):
            prediction = extract_answer(c.text)
            rows.append({"problem_id": item["problem_id"], "sample": j, "target": item["answer"], "text": c.text,
                         "num_tokens": c.num_tokens, "finished": c.finished, "prediction": prediction,
                         "correct": grade(prediction, item["answer"]),
                         "epistemic": total_epistemic(c.text)})
    return rows


def settings_block(params: dict, model: str, prompts: str, num_problems: int) -> dict:
    """What an evaluation's metrics were computed with, kept beside them as lm-evaluation-harness
    keeps its config: the model (its path, and its sha256 where its provenance record gives one),
    the backend, the sampling settings and the dataset (its path, sha256 and problems used)."""
    record = read_record(model)
    return {"model": {"path": str(model), "sha256": record.get("sha256") if record else None},
            "backend": params["backend"], "world": params["world"], "batch_size": params["batch_size"],
            "sampling": {**params["sampling"], "ban_epistemic": bool(params.get("ban_epistemic"))},
            "enable_thinking": params.get("enable_thinking"),
            "dataset": {"path": str(prompts), "sha256": hash_path(prompts), "num_problems": num_problems}}


def max_positions(model_dir: str | Path) -> int | None:
    """The longest sequence the model in `model_dir` was built for; None where it states none."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    return getattr(config.get_text_config(), "max_position_embeddings", None)


def check_prompt_lengths(rows: list[dict], path: str | Path, tokenizer, limit: int | None,
                         enable_thinking: bool | None = None) -> None:
    """Stop at the first prompt of `path` that, rendered as the model sees it, has more tokens
    than `limit`: a model given more positions than it was built for samples noise."""
    if limit is None:
        return
    for number, row in enumerate(rows, 1):
        n = len(tokenizer(render_chat(tokenizer, row["prompt"], enable_thinking), add_special_tokens=False).input_ids)
        if n > limit:
            raise ValueError(f"{path}, row {number} (problem_id {row['problem_id']!r}): the prompt has {n} tokens "
                             f"({len(row['prompt'])} characters), more than the model's {limit} positions")
