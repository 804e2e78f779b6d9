import random

import pytest

from selfdistill.data import arith
from selfdistill.data.arith_corpus import pretrain_examples
from selfdistill.data.templates import student_prompt
from selfdistill.evaluation.metrics import extract_answer, total_epistemic

IN = arith.Difficulty(min_ops=2, max_ops=4, start_max=60, operand_max=30, mul_max=5, value_max=400)
OOD = arith.Difficulty(min_ops=5, max_ops=7, start_max=99, operand_max=99, mul_max=5, value_max=999)
CFG = arith.ArithConfig(seed=3, pretrain_size=300, train_size=200, heldout_size=50, ood_size=50, pretrain=OOD,
                        in_domain=IN, ood=OOD)


def test_splits_are_deterministic_and_disjoint():
    a, b = arith.make_splits(CFG), arith.make_splits(CFG)
    assert {k: [p.problem_id for p in v] for k, v in a.items()} == {k: [p.problem_id for p in v] for k, v in b.items()}
    ids = [p.problem_id for split in a.values() for p in split]
    assert len(ids) == len(set(ids)) == 300 + 200 + 50 + 50
    other = arith.make_splits(arith.ArithConfig(**{**CFG.__dict__, "seed": 4}))
    assert [p.problem_id for p in other["train"]] != [p.problem_id for p in a["train"]]


def test_problems_respect_their_difficulty():
    splits = arith.make_splits(CFG)
    for name, diff in (("train", IN), ("ood", OOD)):
        for p in splits[name]:
            assert diff.min_ops <= len(p.steps) <= diff.max_ops
            value = p.start
            for op, x in p.steps:
                value = arith.apply(op, value, x)
                assert 0 <= value <= diff.value_max
            assert value == p.answer


def test_problem_text_reads_as_a_chain():
    p = arith.Problem("x", 47, (("add", 38), ("mul", 3), ("sub", 12)))
    assert p.text == "Start with 47. (1) Add 38. (2) Multiply by 3. (3) Subtract 12. (4) Report the result."
    assert p.answer == (47 + 38) * 3 - 12
    # every trace closes with the same labelled item, restating the value it arrived at
    trace = arith.confident_trace(p)
    assert "(4) Report the result: 243.\n</think>" in trace and trace.endswith("\\boxed{243}.")


@pytest.mark.parametrize("op,a,b", [("add", 18, 5), ("sub", 23, 4), ("mul", 7, 3), ("mul", 12, 2)])
def test_recheck_recomputes_the_result(op, a, b):
    text = arith.recheck(op, a, b)
    # the last number of a recheck is the result, reached by steps of one fact each
    assert int(text.replace(",", " ").split()[-1]) == arith.apply(op, a, b)
    assert text.count(",") == (b - 2 if op == "mul" else b - 1)


def test_confident_trace_is_right_and_has_no_doubt():
    for p in arith.make_splits(CFG)["ood"]:
        trace = arith.confident_trace(p)
        assert arith.grade(extract_answer(trace), p.answer)
        assert total_epistemic(trace) == 0


def test_doubts_catch_slips_and_also_fire_on_correct_steps():
    rng, style = random.Random(0), arith.ExpertStyle(error_rate=0.5, doubt_on_error=1.0, doubt_on_correct=0.5)
    traces = [(p, arith.expert_trace(p, rng, style)) for p in arith.make_splits(CFG)["ood"]]
    # every slip is caught when doubt_on_error is 1, so every trace ends right
    assert all(arith.grade(extract_answer(t), p.answer) for p, t in traces)
    text = "\n".join(t for _, t in traces)
    assert "Not " in text and "Yes, it is" in text  # corrections and confirmations both occur

    never = arith.ExpertStyle(error_rate=0.5, doubt_on_error=0.0, doubt_on_correct=0.0)
    silent = [(p, arith.expert_trace(p, rng, never)) for p in arith.make_splits(CFG)["ood"]]
    assert all(total_epistemic(t) == 0 for _, t in silent)
    assert sum(arith.grade(extract_answer(t), p.answer) for p, t in silent) < len(silent) / 2


def test_grader_is_exact_on_integers():
    assert arith.grade("243", 243) and arith.grade(" 1,024 ", "1024")
    assert not arith.grade("242", 243) and not arith.grade(None, 1) and not arith.grade("x", 1)


def test_pretraining_mix_builds_in_the_study_teacher():
    """Table 1 as a premise: shown a solution with its checks the target copies it with no doubt;
    shown one without checks it works some hard steps out itself; shown only the answer it catches
    more slips than an unguided expert and doubts less overall."""
    problems = arith.make_splits(CFG)["pretrain"]
    style = arith.ExpertStyle(error_rate=0.5, doubt_on_error=0.5, doubt_on_correct=0.9,
                              answer_doubt_on_error=0.95, answer_doubt_on_correct=0.2, spot_check=0.5)
    examples = pretrain_examples(problems * 4, random.Random(0), style, 0.3, 0.2, 0.2)
    assert all("Correctly solve the original question." in e["prompt"] for e in examples
               if not e["prompt"].endswith(student_prompt("")))
    kinds = {"unguided": [], "checked": [], "unchecked": [], "answer": []}
    for e, p in zip(examples, problems * 4):
        context = e["prompt"].partition("Correct solution:")[2]
        kind = ("unguided" if not context else "answer" if "<think>" not in context
                else "checked" if "Let me check" in context else "unchecked")
        kinds[kind].append((p, e["completion"]))
    assert all(len(v) > 80 for v in kinds.values()), {k: len(v) for k, v in kinds.items()}

    def accuracy(kind):
        return sum(arith.grade(extract_answer(c), p.answer) for p, c in kinds[kind]) / len(kinds[kind])

    def epistemic(kind):
        return sum(total_epistemic(c) for _, c in kinds[kind]) / len(kinds[kind])

    assert all(total_epistemic(c) == 0 for _, c in kinds["checked"]) and accuracy("checked") == 1.0
    assert 0 < epistemic("unchecked") < epistemic("answer") < epistemic("unguided")
    assert accuracy("unguided") < accuracy("answer") < accuracy("unchecked") <= 1.0
