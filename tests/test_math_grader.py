"""Tests of selfdistill.evaluation.math_grader: math-verify equivalence under a time limit that always holds."""

import logging
import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from selfdistill.evaluation.math_grader import grade

EQUIVALENT = [
    ("\\frac{1}{2}", "0.5"),
    ("1/2", "\\frac12"),
    ("3987", "3987.0"),
    ("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}"),
    ("\\dfrac{3}{4}", "0.75"),
    ("50\\%", "50"),  # boxed parsing keeps "50\%" a string; the "$...$" retry rescues it
]
DIFFERENT = [("3", "4"), ("x+1", "x+2"), ("\\frac{1}{3}", "0.33"), ("", "0")]
CASES = [(p, t, True) for p, t in EQUIVALENT] + [(p, t, False) for p, t in DIFFERENT]


@pytest.mark.parametrize("prediction,truth", EQUIVALENT)
def test_equivalent_forms_are_correct(prediction, truth):
    assert grade(prediction, truth)


@pytest.mark.parametrize("prediction,truth", DIFFERENT)
def test_different_values_are_wrong(prediction, truth):
    assert not grade(prediction, truth)


def test_none_is_wrong():
    assert grade(None, "3") is False


def test_exact_match_after_stripping_spaces_and_dollars():
    assert grade("  $42$ ", "42")
    assert grade("\\text{Evelyn}", " \\text{Evelyn}")


def test_pathological_input_times_out_wrong_and_names_it(caplog):
    grade("1/2", "0.5")  # start the helper, so only the check itself is timed
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="selfdistill.evaluation.math_grader"):
        assert grade("9^{9^{9^{9^{9}}}}", "1", timeout_s=2.0) is False
    assert time.monotonic() - start < 2.0 + 3.0
    assert "9^{9^{9^{9^{9}}}}" in caplog.text
    assert grade("1/2", "0.5")  # a fresh helper replaces the killed one


def test_grading_in_threads():
    with ThreadPoolExecutor(max_workers=3) as pool:
        verdicts = list(pool.map(lambda c: grade(c[0], c[1]), CASES))
    assert verdicts == [expected for _, _, expected in CASES]


def test_grading_in_daemonic_pool_worker():
    # Pool workers are daemonic and may not start multiprocessing children; the helper is a
    # plain subprocess, so this works, timeout included.
    with multiprocessing.get_context("fork").Pool(1) as pool:
        verdicts = pool.starmap(grade, [(p, t) for p, t, _ in CASES])
        assert pool.apply(grade, ("9^{9^{9^{9^{9}}}}", "1", 1.0)) is False
    assert verdicts == [expected for _, _, expected in CASES]
