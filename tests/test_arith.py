import pytest

from selfdistill.data import arith
from selfdistill.evaluation.metrics import extract_answer, total_epistemic

IN = arith.Difficulty(min_ops=2, max_ops=4, start_max=60, operand_max=30, mul_max=5, value_max=400)
OOD = arith.Difficulty(min_ops=5, max_ops=7, start_max=99, operand_max=99, mul_max=5, value_max=999)
SIZES = {"pretrain": (OOD, 300), "train": (IN, 200), "in_domain": (IN, 50), "ood": (OOD, 50)}


def splits(seed=3, **changed):
    return {name: arith.draw(seed, name, *changed.get(name, SIZES[name])) for name in SIZES}


def ids(problems):
    return [p.problem_id for p in problems]


def test_splits_are_deterministic_and_disjoint():
    a, b = splits(), splits()
    assert {k: ids(v) for k, v in a.items()} == {k: ids(v) for k, v in b.items()}
    every = [i for split in a.values() for i in ids(split)]
    assert len(every) == len(set(every)) == 300 + 200 + 50 + 50
    assert ids(splits(seed=4)["train"]) != ids(a["train"])


def test_changing_one_split_leaves_the_others_as_they_were():
    longer = arith.Difficulty(min_ops=8, max_ops=9, start_max=99, operand_max=99, mul_max=5, value_max=999)
    a, b = splits(), splits(ood=(longer, 80))
    assert ids(b["ood"]) != ids(a["ood"]) and len(b["ood"]) == 80
    assert all(ids(b[name]) == ids(a[name]) for name in ("pretrain", "train", "in_domain"))
    # and the shares keep them disjoint by construction, not by exclusion
    assert not set(ids(b["ood"])) & {i for name in ("pretrain", "train", "in_domain") for i in ids(b[name])}


def test_a_split_too_large_for_its_share_is_refused():
    tiny = arith.Difficulty(min_ops=1, max_ops=1, start_max=5, operand_max=3, mul_max=1, value_max=10)
    with pytest.raises(ValueError, match="split 'ood'"):
        arith.draw(0, "ood", tiny, 50)


def test_problems_respect_their_difficulty():
    drawn = splits()
    for name, diff in (("train", IN), ("ood", OOD)):
        for p in drawn[name]:
            assert diff.min_ops <= len(p.steps) <= diff.max_ops
            value = p.start
            for op, x in p.steps:
                value = arith.apply(op, value, x)
                assert 0 <= value <= diff.value_max
            assert value == p.answer
    no_mul = arith.Difficulty(min_ops=3, max_ops=5, start_max=99, operand_max=9, mul_max=1, value_max=199)
    assert all(op != "mul" for p in arith.draw(0, "train", no_mul, 100) for op, _ in p.steps)


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
    for p in splits()["ood"]:
        trace = arith.confident_trace(p)
        assert arith.grade(extract_answer(trace), p.answer)
        assert total_epistemic(trace) == 0


def test_grader_is_exact_on_integers():
    assert arith.grade("243", 243) and arith.grade(" 1,024 ", "1024")
    assert not arith.grade("242", 243) and not arith.grade(None, 1) and not arith.grade("x", 1)
