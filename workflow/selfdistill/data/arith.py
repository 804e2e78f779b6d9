"""The arithmetic world: chains of integer operations and expert reasoning traces.

A problem is "Start with 7. (1) Add 5. (2) Multiply by 3. ..."; its answer is an integer. An
expert trace writes one line per operation. At a *hard* step (a carry, a borrow or any
multiplication) the expert's first result is sometimes wrong, and a verbalized doubt ("Wait, let
me check") starts a slower, surer recomputation (counting, repeated addition) that either
confirms the result or corrects it. Doubts also come on correct hard steps, so a doubt word is a
useful but imperfect error flag. Errors that no doubt catches propagate to a wrong final answer.

Everything here is deterministic given a `random.Random`; sizes and rates come from config
(`ArithConfig`, filled from the `world.arith` section).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

OPS = ("add", "sub", "mul")


@dataclass(frozen=True)
class Difficulty:
    """The distribution one split draws problems from."""

    min_ops: int          # operations per chain, inclusive range
    max_ops: int
    start_max: int        # starting value drawn from [2, start_max]
    operand_max: int      # add/subtract operand drawn from [2, operand_max]
    mul_max: int          # multiplier drawn from [2, mul_max]
    value_max: int        # every intermediate value stays in [0, value_max]


@dataclass(frozen=True)
class ExpertStyle:
    """How the expert that writes pretraining traces errs and doubts."""

    error_rate: float = 0.3          # P(first result of a hard step is wrong)
    doubt_on_error: float = 0.6      # P(doubt | wrong first result); slips no doubt catches stay
    doubt_on_correct: float = 0.6    # P(doubt | right first result at a hard step)
    # shown the final answer (c = s_nothink), the expert works more carefully and doubts less
    answer_error_rate: float = 0.2
    answer_doubt_on_error: float = 0.4
    answer_doubt_on_correct: float = 0.4
    # shown a solution that carries no checks of its own (regen), the solver copies it but works
    # out this share of its hard steps itself, at the answer_* rates, and can slip there
    spot_check: float = 0.3


@dataclass(frozen=True)
class Problem:
    problem_id: str
    start: int
    steps: tuple[tuple[str, int], ...]   # (op, operand)

    @property
    def text(self) -> str:
        # numbered steps: the trace cites each number, so finding the next step is a look-up
        return " ".join([f"Start with {self.start}."] +
                        [f"({i}) {instruction(o, x)}." for i, (o, x) in enumerate(self.steps, 1)] +
                        [f"({len(self.steps) + 1}) {FINISH}."])

    @property
    def answer(self) -> int:
        value = self.start
        for op, x in self.steps:
            value = apply(op, value, x)
        return value


# The last labelled item of every problem: where the chain ends is then found by the same look-up
# as every step (the token after the next label), not by noticing that a label is missing.
FINISH = "Report the result"


def instruction(op: str, x: int) -> str:
    return {"add": "Add {}", "sub": "Subtract {}", "mul": "Multiply by {}"}[op].format(x)


def apply(op: str, value: int, x: int) -> int:
    return {"add": value + x, "sub": value - x, "mul": value * x}[op]


def _digits(n: int) -> list[int]:
    return [int(c) for c in reversed(str(n))]


def recheck(op: str, a: int, b: int) -> str:
    """A slower but surer way to `a op b`: count one at a time for add/subtract, add repeatedly
    to multiply. Each of its steps is a fact far easier than the direct result."""
    if op == "mul":
        parts, total = [], a
        for _ in range(b - 1):
            parts.append(f"{total} + {a} = {total + a}")
            total += a
        return ", ".join(parts)
    step = 1 if op == "add" else -1
    return f"counting from {a}: " + ", ".join(str(a + step * k) for k in range(1, b + 1))


def is_hard(op: str, a: int, b: int) -> bool:
    if op == "mul":
        return True
    if op == "add":
        return any(s >= 10 for s in _carries(a, b))
    return any(x < y for x, y in zip(_digits(a), _digits(b) + [0] * 9))


def _carries(a: int, b: int) -> list[int]:
    xs, ys = _digits(a), _digits(b)
    n = max(len(xs), len(ys))
    xs, ys = xs + [0] * (n - len(xs)), ys + [0] * (n - len(ys))
    sums, carry = [], 0
    for x, y in zip(xs, ys):
        sums.append(x + y + carry)
        carry = sums[-1] // 10
    return sums


def sample_problem(rng: random.Random, diff: Difficulty) -> Problem:
    """Draws a chain whose intermediate values all stay in [0, value_max]."""
    value = rng.randint(2, diff.start_max)
    start, steps = value, []
    for _ in range(rng.randint(diff.min_ops, diff.max_ops)):
        choices = [("add", rng.randint(2, diff.operand_max)),
                   ("sub", rng.randint(2, diff.operand_max)),
                   ("mul", rng.randint(2, diff.mul_max))]
        legal = [(o, x) for o, x in choices if 0 <= apply(o, value, x) <= diff.value_max]
        op, x = rng.choice(legal or [("add", 0)])
        if not legal:  # value near the top of the range: subtract it back down instead
            op, x = "sub", rng.randint(1, value)
        steps.append((op, x))
        value = apply(op, value, x)
    pid = f"{start}:" + ",".join(f"{o}{x}" for o, x in steps)
    return Problem(pid, start, tuple(steps))


def sample_split(rng: random.Random, diff: Difficulty, size: int, exclude: set[str]) -> list[Problem]:
    """`size` distinct problems none of which is in `exclude` (which is updated)."""
    out = []
    for _ in range(size * 50):
        p = sample_problem(rng, diff)
        if p.problem_id not in exclude:
            exclude.add(p.problem_id)
            out.append(p)
            if len(out) == size:
                return out
    raise ValueError(f"could draw only {len(out)} distinct problems of {size} requested from {diff}; "
                     "widen the difficulty ranges or ask for fewer problems")


SYMBOL = {"add": "+", "sub": "-", "mul": "*"}
# Every doubt opens with "Wait" or "Hmm", as in reasoning models; together they hold all ten words.
DOUBTS = (
    "Wait, let me check:",
    "Wait, that might be wrong. Let me check:",
    "Wait, maybe I slipped. Let me check:",
    "Wait, actually, let me check:",
    "Wait, alternatively, let me check:",
    "Hmm, let me check:",
    "Hmm, perhaps I slipped. Let me check:",
    "Hmm, that seems off. Let me check:",
    "Hmm, that is likely wrong. Let me check:",
)


def shows_checks(trace: str) -> bool:
    """Whether a trace verifies any of its steps (holds a doubt and its recount)."""
    return any(doubt in trace for doubt in DOUBTS)


_CHECK = re.compile(r"-?\d+\. (?:" + "|".join(map(re.escape, DOUBTS)) + r") [^\n]*?\. (?:Yes, it is|Not -?\d+, it is) "
                    r"(-?\d+)\.")


def without_checks(trace: str) -> str:
    """`trace` with each doubt and its recount replaced by the value it settled on: what a solver
    that never doubted would have written (a correct trace becomes a confident one)."""
    return _CHECK.sub(r"\1.", trace)


def slip(op: str, right: int) -> int:
    """The expert's systematic slip at a hard step: a forgotten carry (add, multiply) or a
    forgotten borrow (subtract). Being systematic, a model that imitates it learns one
    specific wrong value, as real solvers repeat their typical mistakes."""
    if op == "sub":
        return right + 10
    return right - 10 if right >= 10 else right + 1


def expert_trace(problem: Problem, rng: random.Random, style: ExpertStyle, guided: bool = False,
                 work_rate: float = 1.0) -> str:
    """A reasoning trace with slips and doubts; each line restates the instruction it carries out.
    `guided`: the expert knows where it must arrive, so it slips and doubts at the `answer_*` rates.
    `work_rate`: the share of hard steps it works out itself; the rest it copies from a solution
    in its context, right and without doubt."""
    error_rate, on_error, on_correct = (
        (style.answer_error_rate, style.answer_doubt_on_error, style.answer_doubt_on_correct) if guided
        else (style.error_rate, style.doubt_on_error, style.doubt_on_correct))
    value, lines = problem.start, [f"Start with {problem.start}."]
    for i, (op, x) in enumerate(problem.steps, 1):
        right = apply(op, value, x)
        line = f"({i}) {instruction(op, x)}: {value} {SYMBOL[op]} {x} = "
        # an uncaught slip can push the running value below zero; no column check exists there
        if value >= 0 and right >= 0 and is_hard(op, value, x) and rng.random() < work_rate:
            wrong = rng.random() < error_rate
            first = slip(op, right) if wrong else right
            doubt = rng.random() < (on_error if wrong else on_correct)
            line += f"{first}."
            if doubt:
                # the running value is always the last number of a line, even after a correction
                verdict = "Yes, it is" if first == right else f"Not {first}, it is"
                line += f" {rng.choice(DOUBTS)} {recheck(op, value, x)}. {verdict} {right}."
            else:
                right = first
        else:
            line += f"{right}."
        lines.append(line)
        value = right
    return finish(problem, lines, value)


def confident_trace(problem: Problem) -> str:
    """The trace of a solver that already holds a correct solution: every step right, no doubt."""
    value, lines = problem.start, [f"Start with {problem.start}."]
    for i, (op, x) in enumerate(problem.steps, 1):
        right = apply(op, value, x)
        lines.append(f"({i}) {instruction(op, x)}: {value} {SYMBOL[op]} {x} = {right}.")
        value = right
    return finish(problem, lines, value)


def finish(problem: Problem, lines: list[str], value: int) -> str:
    """A trace from its step lines: the closing item restates the running value, then the answer."""
    lines = [*lines, f"({len(problem.steps) + 1}) {FINISH}: {value}."]
    return "<think>\n" + "\n".join(lines) + "\n</think>\n" + answer_line(value)


def answer_line(value: int) -> str:
    return f"The answer is \\boxed{{{value}}}."


def grade(answer: str | None, problem_answer: int | str) -> bool:
    """The world's grader: the extracted answer is the integer answer, exactly."""
    if answer is None:
        return False
    try:
        return int(answer.strip().replace(",", "")) == int(problem_answer)
    except ValueError:
        return False


@dataclass(frozen=True)
class ArithConfig:
    """The `world.arith` config section."""

    seed: int
    pretrain_size: int
    train_size: int
    heldout_size: int
    ood_size: int
    pretrain: Difficulty
    in_domain: Difficulty
    ood: Difficulty
    style: ExpertStyle = field(default_factory=ExpertStyle)

    @classmethod
    def from_dict(cls, d: dict) -> "ArithConfig":
        return cls(seed=d["seed"], pretrain_size=d["pretrain_size"], train_size=d["train_size"],
                   heldout_size=d["heldout_size"], ood_size=d["ood_size"],
                   pretrain=Difficulty(**d["pretrain"]), in_domain=Difficulty(**d["in_domain"]),
                   ood=Difficulty(**d["ood"]),
                   style=ExpertStyle(**d["style"]))


def make_splits(cfg: ArithConfig) -> dict[str, list[Problem]]:
    """All splits, disjoint by problem: train (the pool later stages draw from), in_domain (held
    out, same distribution), ood (longer chains) and pretrain. Like a real base model, the
    pretrained one has seen problems of every length; training and in-domain evaluation then
    cover only the short ones, so OOD means outside the training distribution."""
    rng, seen = random.Random(cfg.seed), set()
    return {name: sample_split(rng, diff, size, seen) for name, diff, size in
            (("train", cfg.in_domain, cfg.train_size), ("in_domain", cfg.in_domain, cfg.heldout_size),
             ("ood", cfg.ood, cfg.ood_size), ("pretrain", cfg.pretrain, cfg.pretrain_size))}
