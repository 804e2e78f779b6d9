"""The world's tokenizer: a step label and its instruction are one token each, the same wherever
they stand, so finding a step is a one-token look-up; text round-trips exactly."""
import random

from selfdistill.data import arith
from selfdistill.data.arith_corpus import correct_expert_trace
from selfdistill.data.arith_style import ExpertStyle, StyleErrors
from selfdistill.data.templates import analysis_teacher_prompt, student_prompt
from selfdistill.models.tokenizer import build_tokenizer

DIFF = arith.Difficulty(min_ops=3, max_ops=6, start_max=15, operand_max=5, mul_max=3, value_max=30)


def test_labels_and_instructions_are_single_tokens_wherever_they_stand():
    rng = random.Random(0)
    problems = [arith.sample_problem(rng, DIFF) for _ in range(50)]
    texts = [analysis_teacher_prompt(student_prompt(p.text), correct_expert_trace(p, rng, StyleErrors(ExpertStyle())))
             for p in problems]
    tok = build_tokenizer(texts)
    for p, text in zip(problems, texts):
        pieces = tok.tokenize(text)
        for i, (op, x) in enumerate(p.steps, 1):
            label, instruction = f"({i})", " " + arith.instruction(op, x)
            # the problem's step and the solution's line both carry the label, then the instruction
            at = [k for k, t in enumerate(pieces) if t == label]
            assert len(at) >= 2, (label, pieces)
            assert all(pieces[k + 1] == instruction for k in at)
        assert tok.decode(tok(text)["input_ids"]) == text
