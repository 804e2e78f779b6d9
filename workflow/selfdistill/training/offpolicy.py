"""Off-policy self-distillation data (Section 4): D_ug and D_sg.

D_ug pairs a student prompt with a correct unguided sample of the base model. D_sg pairs the same
student prompt with a correct trace the model wrote as teacher, shown a correct unguided sample
as the solution (c = s). Two protocols (grid.offpolicy.protocol):
- section3, the study's (official make_sft_dataset): one example per Section 3 problem, D_ug its
  s, D_sg the first correct of its Section 3 teacher traces under c = s (`section3_datasets`);
- coverage: both sampled on a coverage set and cut to the same size (`equal_datasets`).
"""
from __future__ import annotations

from collections import defaultdict

from selfdistill.data.templates import onpolicy_teacher_prompt


def correct_by_problem(samples: list[dict]) -> dict[str, list[str]]:
    out = defaultdict(list)
    for r in samples:
        if r["correct"]:
            out[r["problem_id"]].append(r["text"])
    return out


def guided_prompts(coverage: list[dict], unguided: list[dict]) -> list[dict]:
    """One teacher prompt per coverage row whose problem has a correct unguided sample; repeated
    rows of a problem cycle through its correct samples, so each sees another solution."""
    solutions, used = correct_by_problem(unguided), defaultdict(int)
    out = []
    for row in coverage:
        found = solutions.get(row["problem_id"])
        if not found:
            continue
        s = found[used[row["problem_id"]] % len(found)]
        used[row["problem_id"]] += 1
        out.append({"problem_id": row["problem_id"], "prompt": onpolicy_teacher_prompt(row["prompt"], s),
                    "student_prompt": row["prompt"], "answer": row["answer"], "context": s})
    return out


def sft_pairs(prompts: dict[str, str], samples: list[dict]) -> list[dict]:
    """(student prompt, completion) for each correct sample, keyed by its problem."""
    return [{"prompt": prompts[r["problem_id"]], "completion": r["text"], "problem_id": r["problem_id"]}
            for r in samples if r["correct"]]


def equal_datasets(coverage: list[dict], unguided: list[dict], guided: list[dict]) -> dict[str, list[dict]]:
    """{"sft_ug": D_ug, "sft_sg": D_sg}, the larger cut to the smaller's size (its first rows)."""
    prompts = {r["problem_id"]: r["prompt"] for r in coverage}
    data = {"sft_ug": sft_pairs(prompts, unguided), "sft_sg": sft_pairs(prompts, guided)}
    size = min(len(d) for d in data.values())
    return {method: d[:size] for method, d in data.items()}


def section3_datasets(problems: list[dict], guided: list[dict]) -> dict[str, list[dict]]:
    """{"sft_ug": D_ug, "sft_sg": D_sg} as the study builds them from the Section 3 `problems`
    and their teacher traces under c = s (`guided`, in sampling order): D_ug one example per
    problem, its solution s (the first correct unguided sample, thinking included); D_sg the first
    correct trace of each problem, problems with none skipped. Both pair the student prompt with
    the response; a problem whose s is the world's reference, not a sample, has no D_ug example."""
    first = {}
    for r in guided:
        if r["correct"]:
            first.setdefault(r["problem_id"], r["text"])
    return {"sft_ug": [{"prompt": p["prompt"], "completion": p["solution"], "problem_id": p["problem_id"]}
                       for p in problems if p["solution_source"] == "model"],
            "sft_sg": [{"prompt": p["prompt"], "completion": first[p["problem_id"]], "problem_id": p["problem_id"]}
                       for p in problems if p["problem_id"] in first]}
