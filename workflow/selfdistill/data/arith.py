"""The arithmetic world: chains of integer operations, the splits they fall into, and the trace
format every expert writes.

A problem is "Start with 7. (1) Add 5. (2) Multiply by 3. ..."; its answer is an integer. A trace
writes one line per operation. At a *hard* step (a carry, a borrow or any multiplication) a
verbalized doubt ("Wait, let me check:") may follow the first result and start a slower, surer
recomputation (counting one at a time, repeated addition) whose result the chain goes on from.
Where first results go wrong and how often doubts come is the error model's business
(`arith.errors`: arith_style.py, the world as it was first built and the default;
arith_capability.py, where errors are limits of what the model computes).

Everything here is deterministic given the world's seed; sizes and ranges come from the `arith`
section of the config.
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

OPS = ("add", "sub", "mul")


@dataclass(frozen=True)
class Difficulty:
    """The distribution one split draws problems from."""

    min_ops: int          # operations per chain, inclusive range
    max_ops: int
    start_max: int        # starting value drawn from [2, start_max]
    operand_max: int      # add/subtract operand drawn from [2, operand_max]
    mul_max: int          # multiplier drawn from [2, mul_max]; 1: no multiplication
    value_max: int        # every intermediate value stays in [0, value_max]


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

    def facts(self) -> list[tuple[str, int, int]]:
        """(op, value, operand) of every step of the right chain."""
        value, out = self.start, []
        for op, x in self.steps:
            out.append((op, value, x))
            value = apply(op, value, x)
        return out


# The last labelled item of every problem: where the chain ends is then found by the same look-up
# as every step (the token after the next label), not by noticing that a label is missing.
FINISH = "Report the result"


def instruction(op: str, x: int) -> str:
    return {"add": "Add {}", "sub": "Subtract {}", "mul": "Multiply by {}"}[op].format(x)


_ITEM = re.compile(r"\((\d+)\) (Add|Subtract|Multiply by) (\d+)\.")
_OP_NAMES = {"Add": "add", "Subtract": "sub", "Multiply by": "mul"}


def parse_problem(problem_id: str, text: str) -> Problem:
    """The problem a split's prompt states (it opens with Problem.text)."""
    head = re.match(r"Start with (\d+)\.", text)
    problem = Problem(problem_id, int(head[1]) if head else -1,
                      tuple((_OP_NAMES[m[2]], int(m[3])) for m in _ITEM.finditer(text)))
    if not text.startswith(problem.text):
        raise ValueError(f"problem {problem_id}: not a problem of the arithmetic world: {text[:80]!r}")
    return problem


def apply(op: str, value: int, x: int) -> int:
    return {"add": value + x, "sub": value - x, "mul": value * x}[op]


def _digits(n: int) -> list[int]:
    return [int(c) for c in reversed(str(n))]


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


def sample_problem(rng: random.Random, diff: Difficulty) -> Problem:
    """Draws a chain whose intermediate values all stay in [0, value_max]."""
    value = rng.randint(2, diff.start_max)
    start, steps = value, []
    for _ in range(rng.randint(diff.min_ops, diff.max_ops)):
        choices = [("add", rng.randint(2, diff.operand_max)), ("sub", rng.randint(2, diff.operand_max))]
        if diff.mul_max >= 2:
            choices.append(("mul", rng.randint(2, diff.mul_max)))
        legal = [(o, x) for o, x in choices if 0 <= apply(o, value, x) <= diff.value_max]
        op, x = rng.choice(legal or [("add", 0)])
        if not legal:  # value near the top of the range: subtract it back down instead
            op, x = "sub", rng.randint(1, value)
        steps.append((op, x))
        value = apply(op, value, x)
    pid = f"{start}:" + ",".join(f"{o}{x}" for o, x in steps)
    return Problem(pid, start, tuple(steps))


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
# how a check ends, as regular-expression alternatives, naming the value the chain goes on from
# (the capability model's "So it is" compares nothing: the recount's result stands)
VERDICTS = ("Yes, it is", "Not -?\\d+, it is", "So it is")


def shows_checks(trace: str) -> bool:
    """Whether a trace verifies any of its steps (holds a doubt and its recount)."""
    return any(doubt in trace for doubt in DOUBTS)


_CHECK = re.compile(r"-?\d+\. (?:" + "|".join(map(re.escape, DOUBTS)) + r") [^\n]*?\. (?:" + "|".join(VERDICTS)
                    + r") (-?\d+)\.")


def without_checks(trace: str) -> str:
    """`trace` with each doubt and its recount replaced by the value it settled on: what a solver
    that never doubted would have written (a correct trace becomes a confident one)."""
    return _CHECK.sub(r"\1.", trace)


class Trace:
    """A completion built piece by piece; a piece marked `loss=False` is shown but carries no loss
    in training (selfdistill.training.sft): a wrong first result a correction follows."""

    def __init__(self, text: str = ""):
        self.parts: list[tuple[str, bool]] = [(text, True)] if text else []

    def add(self, text: str, loss: bool = True) -> "Trace":
        self.parts.append((text, loss))
        return self

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.parts)

    @property
    def no_loss(self) -> list[list[int]]:
        """[start, end) character spans of the pieces without loss."""
        spans, at = [], 0
        for text, loss in self.parts:
            if not loss:
                spans.append([at, at + len(text)])
            at += len(text)
        return spans

    def example(self, prompt: str) -> dict:
        """A (prompt, completion) row; `no_loss` only where there is any, so traces without one
        read as they always did."""
        row = {"prompt": prompt, "completion": self.text}
        return {**row, "no_loss": self.no_loss} if self.no_loss else row


def step_line(i: int, op: str, value: int, x: int) -> str:
    """A step's line up to its first result: the line restates its instruction and operands."""
    return f"({i}) {instruction(op, x)}: {value} {SYMBOL[op]} {x} ="


def confident_trace(problem: Problem) -> str:
    """The trace of a solver that already holds a correct solution: every step right, no doubt."""
    value, lines = problem.start, [f"Start with {problem.start}."]
    for i, (op, x) in enumerate(problem.steps, 1):
        right = apply(op, value, x)
        lines.append(f"{step_line(i, op, value, x)} {right}.")
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


# Each problem belongs to one split, by a hash of the world's seed and the problem itself, so the
# splits are disjoint whatever each one's settings are, and each is drawn from a random stream of
# its own: changing one split (its size, its chains) leaves every other, the corpus included, as
# it was. Shares of the problem space, not of any split's size.
SHARES = {"pretrain": 0.55, "train": 0.25, "in_domain": 0.1, "ood": 0.1}


def split_of(seed: int, problem_id: str) -> str:
    digest = hashlib.sha256(f"{seed}/{problem_id}".encode()).digest()
    u, low = int.from_bytes(digest[:8], "big") / 2 ** 64, 0.0
    for name, share in SHARES.items():
        low += share
        if u < low:
            return name
    return name


def draw(seed: int, name: str, diff: Difficulty, size: int) -> list[Problem]:
    """`size` distinct problems of split `name` (one of SHARES), from its own random stream."""
    rng, seen, out = random.Random(f"{seed}/{name}"), set(), []
    for _ in range(int(size * 50 / SHARES[name])):
        p = sample_problem(rng, diff)
        if p.problem_id not in seen and split_of(seed, p.problem_id) == name:
            seen.add(p.problem_id)
            out.append(p)
            if len(out) == size:
                return out
    raise ValueError(f"could draw only {len(out)} distinct problems of {size} requested for split {name!r} from "
                     f"{diff}; widen the difficulty ranges or ask for fewer problems")
