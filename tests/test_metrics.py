"""Tests of selfdistill.evaluation.metrics."""

import itertools
import json
import math

import pytest

from selfdistill.evaluation.metrics import (
    EPISTEMIC_WORDS, answer_part, count_epistemic, extract_answer, extract_boxed,
    pass_at_k, strip_thinking, summarize, total_epistemic,
)

# -----------------------------------------------------------------------------
# answer extraction


def test_answer_part_full_tags():
    assert answer_part("<think>reason</think>\nThe answer is 4.") == "\nThe answer is 4."


def test_answer_part_bare_closing_tag():
    # R1-Distill: <think> was in the prompt, the response holds only </think>
    assert answer_part("reasoning here\n</think>\n\nSo 4.") == "\n\nSo 4."


def test_answer_part_unclosed_think_is_empty():
    assert answer_part("<think>still thinking when truncated \\boxed{3}") == ""


def test_answer_part_no_tags_is_whole_text():
    assert answer_part("  plain answer \\boxed{2} ") == "  plain answer \\boxed{2} "


def test_answer_part_last_closing_tag_wins():
    text = "<think>a</think>draft<think>b</think>final"
    assert answer_part(text) == "final"


def test_strip_thinking():
    assert strip_thinking("<think>long reasoning</think>\n  Answer: \\boxed{7}\n") == "Answer: \\boxed{7}"
    assert strip_thinking("reasoning</think> Answer ") == "Answer"
    assert strip_thinking("  no tags here \n") == "no tags here"
    assert strip_thinking("<think>never closed") == ""


def test_extract_boxed_nested_braces():
    assert extract_boxed(r"so \boxed{\frac{1}{2}} done") == r"\frac{1}{2}"
    assert extract_boxed(r"\boxed{\sqrt{\frac{a}{b^{2}}}}") == r"\sqrt{\frac{a}{b^{2}}}"


def test_extract_boxed_last_of_several():
    assert extract_boxed(r"first \boxed{1}, then \boxed{2}, finally \boxed{3}.") == "3"


def test_extract_boxed_missing_or_unbalanced():
    assert extract_boxed("no box at all") is None
    assert extract_boxed(r"\boxed{\frac{1}{2}") is None
    assert extract_boxed(r"\boxed 5") is None


def test_extract_answer_ignores_boxed_in_thinking():
    text = r"<think>maybe \boxed{5}? no.</think> The answer is \boxed{ 6 }."
    assert extract_answer(text) == "6"
    assert extract_answer(r"<think>guess \boxed{5}</think> I am not sure.") is None
    assert extract_answer(r"<think>truncated \boxed{5}") is None

# -----------------------------------------------------------------------------
# epistemic words


def test_epistemic_words_order():
    assert EPISTEMIC_WORDS == ("wait", "hmm", "perhaps", "maybe", "actually",
                               "alternatively", "seems", "might", "likely", "check")


def test_count_substring_vs_word_rule():
    text = "Wait, checking... unlikely. HMM maybe"
    zeros = dict.fromkeys(EPISTEMIC_WORDS, 0)
    substring = count_epistemic(text)
    word = count_epistemic(text, "word")
    assert list(substring) == list(EPISTEMIC_WORDS)
    assert list(word) == list(EPISTEMIC_WORDS)
    assert substring == {**zeros, "wait": 1, "hmm": 1, "maybe": 1, "likely": 1, "check": 1}
    assert word == {**zeros, "wait": 1, "hmm": 1, "maybe": 1}
    assert total_epistemic(text) == 5
    assert total_epistemic(text, "word") == 3


def test_count_includes_thinking_and_repeats():
    text = "<think>Hmm, perhaps. Actually, perhaps not; it seems it might.</think> Perhaps 3."
    zeros = dict.fromkeys(EPISTEMIC_WORDS, 0)
    expected = {**zeros, "hmm": 1, "perhaps": 3, "actually": 1, "seems": 1, "might": 1}
    assert count_epistemic(text) == expected
    assert count_epistemic(text, "word") == expected
    # inflected forms count only under the substring rule
    text = "Alternatively, waiting, checks"
    assert count_epistemic(text, "word")["alternatively"] == 1
    assert count_epistemic(text)["wait"] == 1
    assert count_epistemic(text, "word")["wait"] == 0
    assert count_epistemic(text)["check"] == 1
    assert count_epistemic(text, "word")["check"] == 0


def test_unknown_rule_is_named():
    with pytest.raises(ValueError, match="'regex'.*substring.*word"):
        count_epistemic("wait", rule="regex")
    with pytest.raises(ValueError, match="'regex'"):
        total_epistemic("wait", rule="regex")

# -----------------------------------------------------------------------------
# pass@k


def brute_pass_at_k(n, c, k):
    """Fraction of k-subsets of n samples (first c correct) that hold a correct one."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", range(1, 8))
def test_pass_at_k_matches_brute_force(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k), abs=1e-12)


def test_pass_at_k_known_values():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(5, 0, 5) == 0.0
    assert pass_at_k(5, 1, 5) == 1.0
    # large n stays finite and exact where binomials would be huge
    expected = 1 - math.comb(900, 50) / math.comb(1000, 50)
    assert pass_at_k(1000, 100, 50) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n, c, k, named", [
    (5, 6, 1, "c=6"), (5, -1, 1, "c=-1"), (5, 2, 0, "k=0"), (5, 2, 6, "k=6"),
])
def test_pass_at_k_rejects_bad_values(n, c, k, named):
    with pytest.raises(ValueError, match=named):
        pass_at_k(n, c, k)

# -----------------------------------------------------------------------------
# summarize


def sample(problem_id, correct, num_tokens, text):
    return {"problem_id": problem_id, "correct": correct, "num_tokens": num_tokens, "text": text}


SAMPLES = [
    # problem a: 3 samples, 1 correct; problem b: 2 samples, 1 correct
    sample("a", True, 10, r"<think>Wait, checking.</think> \boxed{1}"),  # sub: wait, check; word: wait
    sample("a", False, 20, "Hmm, unlikely."),                             # sub: hmm, likely; word: hmm
    sample("a", False, 30, ""),
    sample("b", True, 40, "maybe Maybe"),                                 # maybe x2 under both rules
    sample("b", False, 50, "no hedging"),
]


def test_summarize_hand_computed():
    s = summarize(SAMPLES)
    assert s["num_problems"] == 2
    assert s["num_samples"] == 5
    assert s["samples_per_problem"] == 2
    assert s["k"] == 2
    # average of per-problem means (1/3 + 1/2) / 2, not the pooled 2/5
    assert s["accuracy"] == pytest.approx(5 / 12)
    assert s["accuracy"] != pytest.approx(2 / 5)
    # pass@2: a = 1 - C(2,2)/C(3,2) = 2/3, b = 1
    assert s["pass_at_k"] == pytest.approx((2 / 3 + 1) / 2)
    assert s["mean_length"] == pytest.approx(30.0)
    assert s["mean_epistemic"] == pytest.approx(6 / 5)
    assert s["mean_epistemic_word_boundary"] == pytest.approx(4 / 5)
    zeros = dict.fromkeys(EPISTEMIC_WORDS, 0.0)
    assert s["epistemic_per_word"] == pytest.approx(
        {**zeros, "wait": 0.2, "hmm": 0.2, "maybe": 0.4, "likely": 0.2, "check": 0.2})
    assert s["epistemic_per_word_boundary"] == pytest.approx(
        {**zeros, "wait": 0.2, "hmm": 0.2, "maybe": 0.4})
    assert list(s["epistemic_per_word"]) == list(EPISTEMIC_WORDS)
    # per-problem means, and the standard error over problems: |1/3 - 1/2| / sqrt(2) / sqrt(2)
    assert s["per_problem"]["problem_id"] == ["a", "b"]
    assert s["per_problem"]["accuracy"] == pytest.approx([1 / 3, 1 / 2])
    assert s["per_problem"]["mean_length"] == pytest.approx([20.0, 45.0])
    assert s["per_problem"]["mean_epistemic"] == pytest.approx([4 / 3, 1.0])
    assert s["accuracy_se"] == pytest.approx(1 / 12)
    assert s["mean_length_se"] == pytest.approx(12.5)
    # plain Python types, so the summary can be written as JSON
    assert json.loads(json.dumps(s)) == s
    assert all(type(s[key]) is float for key in ("accuracy", "pass_at_k", "mean_length", "mean_epistemic"))


def test_summarize_explicit_k():
    assert summarize(SAMPLES, k=1)["pass_at_k"] == pytest.approx(5 / 12)  # pass@1 equals avg accuracy
    with pytest.raises(ValueError, match="k=3"):
        summarize(SAMPLES, k=3)  # problem b has only 2 samples


def test_summarize_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        summarize([])
