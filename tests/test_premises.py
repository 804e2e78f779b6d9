"""The arithmetic world's premise table: its measurements (evaluation/premises.py) and rules
(reporting/premises.py), and the table a run writes."""
import random
import re

import pandas as pd
import pytest

from selfdistill.data import arith
from selfdistill.data.arith_capability import CapabilityErrors, Habits
from selfdistill.evaluation.premises import FORCED, ForceDoubt, recounts_right
from selfdistill.evaluation.uncertainty import Interval
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.reporting.premises import table, verdicts

WORLD = arith.Difficulty(min_ops=3, max_ops=4, start_max=40, operand_max=9, mul_max=1, value_max=60)


@pytest.fixture(scope="module")
def traces():
    problems, rng = arith.draw(0, "ood", WORLD, 40), random.Random(0)
    errors = CapabilityErrors(Habits(doubt=1.0, shown_wrong=0.5, spot_check=0.0))
    return problems, [errors.unguided(p, rng).text for p in problems]


def test_a_problem_is_read_back_from_its_prompt_and_a_foreign_one_named():
    p = arith.draw(0, "train", WORLD, 1)[0]
    assert arith.parse_problem(p.problem_id, p.text + " Please reason step by step.") == p
    with pytest.raises(ValueError, match="problem x: not a problem of the arithmetic world"):
        arith.parse_problem("x", "What is 2 + 2?")


def test_every_recount_of_a_correcting_trace_is_counted_right(traces):
    problems, texts = traces
    right = recounts_right(texts)
    assert len(right) == sum(len(p.steps) for p in problems) and right.all()
    # a recount that ends on another value is counted wrong
    broken = re.sub(r"So it is (\d+)\.", lambda m: f"So it is {int(m[1]) + 1}.", texts[0], count=1)
    assert list(recounts_right([broken])) == [0.0] + [1.0] * (len(problems[0].steps) - 1)


def test_the_doubt_is_forced_after_a_first_result_and_never_inside_a_check(traces):
    tok = build_tokenizer(traces[1])
    force = ForceDoubt(tok)

    def ids(text):
        return tok(text, add_special_tokens=False)["input_ids"]

    line = "<think>\nStart with 12.\n(1) Add 5: 12 + 5 = 17."
    doubt = ids(FORCED)
    # token by token through the forced doubt, then the model is free again
    assert [force.forced(ids(line) + doubt[:j]) for j in range(len(doubt))] == doubt
    assert force.forced(ids(line) + doubt) is None
    # a first result inside a check (after the doubt's opener on the same line) forces nothing
    assert force.forced(ids(line + " Wait, let me check: 12 + 5 = 17.")) is None
    assert force.forced(ids("<think>\nStart with 12.\n(1) Add 5: 12 +")) is None


def interval(estimate, low, high):
    return Interval(estimate, low, high)


def test_the_rules_can_come_out_each_way():
    sft = {128: {"not_in_set": (interval(0.29, 0.23, 0.35), 800), "in_set": (interval(0.34, 0.31, 0.38), 200)},
           1280: {"not_in_set": (interval(0.01, -0.02, 0.02), 70), "in_set": (None, 0)}}
    frame = table((interval(0.3, 0.27, 0.33), 1000), sft, (interval(0.97, 0.96, 0.98), 900),
                  (interval(-0.1, -0.2, -0.01), 200))
    assert list(frame["verdict"]) == ["holds", "contradicted", "holds", "holds", "not tested", "inconclusive",
                                      "contradicted"]
    # the style world's signature, unseen facts rising with the ones trained on, is the contradiction
    assert "facts not in the set" in frame["premise"][1]


def test_several_bases_hold_a_premise_only_where_every_one_does():
    one = pd.DataFrame([{"premise": "recount right", "estimate": 0.99, "low": 0.985, "high": 0.995, "n": 900,
                         "rule": "r", "verdict": "holds"}])
    other = one.assign(verdict="inconclusive", low=0.97)
    pooled, each = verdicts({0: one, 1: other})
    assert [v.verdict for v in pooled] == ["inconclusive"] and each[0][0].verdict == "holds"
    assert pooled[0].kind == "premise" and "base 1: 0.990 [0.970, 0.995]" in pooled[0].measured


def test_the_run_writes_the_premise_table_and_leads_the_front_page_with_it(test_run):
    frame = pd.read_csv(test_run / "results/summary/base0/premises.csv")
    assert len(frame) == 7 and set(frame["verdict"]) <= {"holds", "contradicted", "inconclusive", "not tested"}
    front = pd.read_csv(test_run / "results/summary/verdicts.csv")
    assert list(front["claim"][:len(frame)]) == [f"World: {p}" for p in frame["premise"]]
