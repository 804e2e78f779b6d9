"""Scoring of sampled responses: answer extraction, epistemic-word counts, pass@k, summaries."""

import re
from collections import Counter, defaultdict

import numpy as np

# The study's order; reports and plots list words in this order.
EPISTEMIC_WORDS: tuple[str, ...] = (
    "wait", "hmm", "perhaps", "maybe", "actually",
    "alternatively", "seems", "might", "likely", "check",
)
COUNT_RULES = ("substring", "word")

# -----------------------------------------------------------------------------
# answer extraction


def answer_part(text: str) -> str:
    """The part of a response after its last </think>.

    A bare </think> is normal: R1-Distill templates put the opening <think> in the prompt.
    An opened but never closed <think> (truncated thinking) has no answer, so "".
    Text with neither tag is all answer.
    """
    if "</think>" in text:
        return text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        return ""
    return text


def strip_thinking(text: str) -> str:
    """The response with its thinking removed, as used for the s_nothink context."""
    return answer_part(text).strip()


def extract_boxed(text: str) -> str | None:
    r"""Content of the last \boxed{...}, nested braces balanced; None if absent or unbalanced."""
    start = text.rfind("\\boxed{")
    if start == -1:
        return None
    start += len("\\boxed{")
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return None


def extract_answer(text: str) -> str | None:
    """The boxed final answer, ignoring any \\boxed inside the thinking."""
    boxed = extract_boxed(answer_part(text))
    return None if boxed is None else boxed.strip()

# -----------------------------------------------------------------------------
# epistemic words


# the ten words as whole words, any case; group 1 is the word as written
EPISTEMIC_WORD = re.compile(r"\b(" + "|".join(EPISTEMIC_WORDS) + r")\b", re.IGNORECASE)


def count_epistemic(text: str, rule: str = "substring") -> dict[str, int]:
    """Case-insensitive count of each epistemic word in the whole text, thinking included.

    "substring" is the study's official rule ("checking" counts for check, "unlikely" for likely);
    "word" counts whole-word matches only, as a stricter comparison.
    """
    if rule == "substring":
        lower = text.lower()
        return {w: lower.count(w) for w in EPISTEMIC_WORDS}
    if rule == "word":
        found = Counter(m.group(1).lower() for m in EPISTEMIC_WORD.finditer(text))
        return {w: found[w] for w in EPISTEMIC_WORDS}
    raise ValueError(f"unknown count rule {rule!r}; valid rules are {COUNT_RULES}")


def total_epistemic(text: str, rule: str = "substring") -> int:
    """Total epistemic-word count of a text under the given rule."""
    return sum(count_epistemic(text, rule).values())

# -----------------------------------------------------------------------------
# pass@k and per-run summary


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k) (Chen et al. 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:  # every k-subset contains a correct sample
        return 1.0
    # C(n-c, k) / C(n, k) as a product of ratios, so no huge binomials are formed
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def summarize(samples: list[dict], k: int | None = None) -> dict:
    """Accuracy, pass@k, length and epistemic statistics of samples with
    keys problem_id, correct, num_tokens, text. k defaults to the fewest samples of any problem.

    `per_problem` keeps each problem's mean accuracy, length and epistemic count, so later stages
    can compare two evaluations of the same problems pairwise (selfdistill.evaluation.uncertainty); each
    `<metric>_se` is the standard error over problems, the unit that varies between evaluations."""
    if not samples:
        raise ValueError("summarize needs at least one sample, got an empty list")
    by_problem = defaultdict(list)
    for s in samples:
        by_problem[s["problem_id"]].append(s)
    min_n = min(len(v) for v in by_problem.values())
    k = min_n if k is None else k

    substring = [count_epistemic(s["text"], "substring") for s in samples]
    word = [count_epistemic(s["text"], "word") for s in samples]
    per_word = {w: float(np.mean([c[w] for c in substring])) for w in EPISTEMIC_WORDS}
    per_word_boundary = {w: float(np.mean([c[w] for c in word])) for w in EPISTEMIC_WORDS}

    per_problem = {"problem_id": list(by_problem), "accuracy": [], "mean_length": [], "mean_epistemic": []}
    for rows in by_problem.values():
        per_problem["accuracy"].append(float(np.mean([bool(r["correct"]) for r in rows])))
        per_problem["mean_length"].append(float(np.mean([r["num_tokens"] for r in rows])))
        per_problem["mean_epistemic"].append(float(np.mean([total_epistemic(r["text"]) for r in rows])))
    se = {f"{key}_se": _standard_error(per_problem[key]) for key in ("accuracy", "mean_length", "mean_epistemic")}

    return {
        "num_problems": len(by_problem),
        "num_samples": len(samples),
        "samples_per_problem": min_n,
        # average of per-problem means, so problems with more samples do not weigh more
        "accuracy": float(np.mean(per_problem["accuracy"])),
        "pass_at_k": float(np.mean([pass_at_k(len(v), sum(bool(r["correct"]) for r in v), k)
                                    for v in by_problem.values()])),
        "k": k,
        "mean_length": float(np.mean([s["num_tokens"] for s in samples])),
        "mean_epistemic": float(np.mean([sum(c.values()) for c in substring])),
        "mean_epistemic_word_boundary": float(np.mean([sum(c.values()) for c in word])),
        **se,
        "epistemic_per_word": per_word,
        "epistemic_per_word_boundary": per_word_boundary,
        "per_problem": per_problem,
    }


def _standard_error(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
