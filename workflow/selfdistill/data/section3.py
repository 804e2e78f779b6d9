"""Section 3 of the study: which problems to analyse and the teacher's context at each richness.

Problems are training problems the base model solves at a middling rate; the solution s is one
of its own correct unguided samples. The contexts then reveal more and more of it:
none (nothing), s_nothink (s without its thinking), regen (the model's own response while shown
s) and s (all of s).
"""
from __future__ import annotations

from collections import defaultdict

from selfdistill.data.templates import RICHNESS, analysis_teacher_prompt
from selfdistill.evaluation.metrics import strip_thinking


def select_problems(items: list[dict], rows: list[dict], low: float, high: float, limit: int) -> list[dict]:
    """Items whose pass rate over their sampled `rows` lies in [low, high], each with its first
    correct sample as `solution`; at most `limit`, in the order given. A problem the model never
    solved (possible only when low is 0) takes the world's `reference` solution instead."""
    by_problem = defaultdict(list)
    for r in rows:
        by_problem[r["problem_id"]].append(r)
    chosen = []
    for it in items:
        samples = by_problem[it["problem_id"]]
        rate = sum(r["correct"] for r in samples) / len(samples)
        if low <= rate <= high:
            solution = next((r["text"] for r in samples if r["correct"]), None)
            if solution is None and "reference" not in it:
                continue
            chosen.append({**it, "pass_rate": rate, "solution": solution or it["reference"],
                           "solution_source": "model" if solution else "reference"})
    return chosen[:limit]


def first_correct(rows: list[dict]) -> dict[str, str]:
    """problem_id -> text of its first correct row, else of its first row."""
    out = {}
    for r in rows:
        if r["problem_id"] not in out or (r["correct"] and not out[r["problem_id"]][1]):
            out[r["problem_id"]] = (r["text"], r["correct"])
    return {pid: text for pid, (text, _) in out.items()}


def contexts(selected: list[dict], regen: dict[str, str]) -> dict[str, list[dict]]:
    """For each richness level, the prompts a teacher at that level sees."""
    solution = {
        "none": lambda p: None,
        "s_nothink": lambda p: strip_thinking(p["solution"]),
        "regen": lambda p: regen[p["problem_id"]],
        "s": lambda p: p["solution"],
    }
    out = {}
    for level in RICHNESS:
        out[level] = []
        for p in selected:
            ctx = solution[level](p)
            prompt = p["prompt"] if ctx is None else analysis_teacher_prompt(p["prompt"], ctx)
            out[level].append({"problem_id": p["problem_id"], "prompt": prompt, "answer": p["answer"],
                               "context": ctx})
    return out
