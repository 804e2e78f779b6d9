"""The two error models and the pretraining corpus they write (data/arith_corpus.py)."""
import random
import re

import pytest

from selfdistill.data import arith
from selfdistill.data.arith_capability import CapabilityErrors, Habits, recount
from selfdistill.data.arith_corpus import error_model, pretrain_examples
from selfdistill.data.arith_style import ExpertStyle, StyleErrors
from selfdistill.data.templates import student_prompt
from selfdistill.evaluation.metrics import extract_answer, total_epistemic

STYLE_WORLD = arith.Difficulty(min_ops=5, max_ops=7, start_max=99, operand_max=99, mul_max=5, value_max=999)
CAPABILITY_WORLD = arith.Difficulty(min_ops=4, max_ops=7, start_max=199, operand_max=5, mul_max=1, value_max=199)
STEP = re.compile(r"\(\d+\) [A-Za-z ]+ \d+: (\d+) ([+*-]) (\d+) = (\d+)\.")
OP = {"+": "add", "-": "sub", "*": "mul"}


def first_results(text):
    """(right value, first result, its character span) of every step line of a trace."""
    return [(arith.apply(OP[m[2]], int(m[1]), int(m[3])), int(m[4]), m.span(4)) for m in STEP.finditer(text)]


def test_style_doubts_catch_slips_and_also_fire_on_correct_steps():
    problems, rng = arith.draw(0, "ood", STYLE_WORLD, 50), random.Random(0)
    always = StyleErrors(ExpertStyle(error_rate=0.5, doubt_on_error=1.0, doubt_on_correct=0.5))
    traces = [(p, always.unguided(p, rng).text) for p in problems]
    # every slip is caught when doubt_on_error is 1, so every trace ends right
    assert all(arith.grade(extract_answer(t), p.answer) for p, t in traces)
    text = "\n".join(t for _, t in traces)
    assert "Not " in text and "Yes, it is" in text  # corrections and confirmations both occur

    never = StyleErrors(ExpertStyle(error_rate=0.5, doubt_on_error=0.0, doubt_on_correct=0.0))
    silent = [(p, never.unguided(p, rng).text) for p in problems]
    assert all(total_epistemic(t) == 0 for _, t in silent)
    assert sum(arith.grade(extract_answer(t), p.answer) for p, t in silent) < len(silent) / 2


def test_capability_corpus_never_trains_a_wrong_result():
    """Every wrong first result of every example is shown without loss, and nothing else is: the
    corpus sets no error rate the model could learn."""
    problems = arith.draw(0, "pretrain", CAPABILITY_WORLD, 300)
    errors = CapabilityErrors(Habits(doubt=0.5, shown_wrong=0.4, spot_check=0.3))
    examples = pretrain_examples(problems, random.Random(1), errors, 0.2, 0.2, 0.2)
    wrong = 0
    for e in examples:
        text = e["completion"]
        masked = [(b, text[a:b].strip()) for a, b in e.get("no_loss", [])]
        shown = [(end, text[start:end]) for right, first, (start, end) in first_results(text) if first != right]
        # a wrong first result is the only wrong number on its line, and it is the one masked
        assert shown == masked, text
        assert all(0 < abs(right - first) <= 2 for right, first, _ in first_results(e["completion"]) if first != right)
        wrong += len(shown)
    assert wrong > 100


def test_capability_recount_corrects_what_it_checks():
    problems, rng = arith.draw(0, "ood", CAPABILITY_WORLD, 60), random.Random(0)
    always = CapabilityErrors(Habits(doubt=1.0, shown_wrong=0.5, spot_check=0.0))
    traces = [(p, always.unguided(p, rng).text) for p in problems]
    assert all(arith.grade(extract_answer(t), p.answer) for p, t in traces)
    assert all(t.count("So it is") == len(p.steps) for p, t in traces)


@pytest.mark.parametrize("op,a,b", [("add", 37, 8), ("sub", 12, 9), ("add", 140, 2)])
def test_capability_recount_numbers_each_value_up_to_the_operand(op, a, b):
    text = recount(op, a, b)
    values = [int(v) for v in re.findall(r"(\d+) \(\d+\)", text)]
    numbers = [int(k) for k in re.findall(r"\((\d+)\)", text)]
    assert numbers == list(range(1, b + 1))
    assert values == [a + (k if op == "add" else -k) for k in range(1, b + 1)]
    assert values[-1] == arith.apply(op, a, b)


@pytest.mark.parametrize("errors,world", [
    (StyleErrors(ExpertStyle(error_rate=0.5, doubt_on_error=0.5, doubt_on_correct=0.9, answer_doubt_on_error=0.95,
                             answer_doubt_on_correct=0.2, spot_check=0.5)), STYLE_WORLD),
    (CapabilityErrors(Habits(doubt=0.55, shown_wrong=0.3, spot_check=0.15)), CAPABILITY_WORLD),
], ids=["style", "capability"])
def test_pretraining_mix_builds_in_the_study_teacher(errors, world):
    """Table 1 as a premise: shown a solution with its checks the target copies it with no doubt;
    shown one without checks it verifies some steps; shown only the solution's last part it errs
    less than an unguided expert and doubts less."""
    problems = arith.draw(0, "pretrain", world, 300)
    examples = pretrain_examples(problems * 4, random.Random(0), errors, 0.3, 0.2, 0.2)
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


def test_an_unknown_error_model_is_named():
    with pytest.raises(ValueError, match="arith.errors='slips'.*'capability', 'style'"):
        error_model("slips", {})


def test_no_loss_spans_become_a_completion_mask_on_exactly_their_tokens():
    from selfdistill.models.tokenizer import build_tokenizer
    from selfdistill.training.sft import dataset

    problems = arith.draw(0, "train", CAPABILITY_WORLD, 40)
    errors = CapabilityErrors(Habits(doubt=1.0, shown_wrong=0.5, spot_check=0.0))
    examples = [errors.unguided(p, random.Random(i)).example(student_prompt(p.text)) for i, p in enumerate(problems)]
    tok = build_tokenizer([e["prompt"] + e["completion"] for e in examples])
    rows = dataset(tok, examples)
    for e, row in zip(examples, rows):
        ids, mask = row["input_ids"], row["completion_mask"]
        rendered = tok.apply_chat_template([{"role": "user", "content": e["prompt"]}], add_generation_prompt=True,
                                           tokenize=False)
        head = len(tok(rendered, add_special_tokens=False)["input_ids"])
        assert not any(mask[:head])  # the prompt carries no loss
        masked = [tok.decode([t]).strip() for t, m in zip(ids[head:], mask[head:]) if not m]
        # within the completion, the shown wrong values and nothing else
        assert masked == [e["completion"][a:b].strip() for a, b in e.get("no_loss", [])]
    assert sum(len(e.get("no_loss", [])) for e in examples) > 20
