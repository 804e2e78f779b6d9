"""Where the arithmetic world's Section 3 traces go wrong, per richness level: the first failing
step of each wrong trace, classified by what failed. Usage, from a finished run's directory:
    python benchmarks/section3_errors.py [results/base0]

  copied step       a step line names another operation or operand than the problem's step
  carried value     a step starts from another value than the trace's previous result
  arithmetic        a step's result (after any correction) is wrong, every earlier step right
  wrong step count  every step line right, but more or fewer of them than the problem has
  answer            all steps right, the boxed answer is not the last result
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

from selfdistill.data.arith import apply, instruction
from selfdistill.data.templates import RICHNESS

LINE = re.compile(r"^\((\d+)\) (Add \d+|Subtract \d+|Multiply by \d+): (-?\d+) [+*-] \d+ = .*$", re.M)


def steps_of(problem_id: str) -> tuple[int, list[tuple[str, int]]]:
    start, rest = problem_id.split(":")
    return int(start), [(re.match(r"[a-z]+", s).group(), int(re.search(r"\d+", s).group())) for s in rest.split(",")]


def first_failure(text: str, problem_id: str) -> str:
    truth, steps = steps_of(problem_id)
    own = truth  # the value the trace itself carries: the last number of its previous line
    lines = list(LINE.finditer(text))
    for i, m in enumerate(lines):
        if i >= len(steps) or int(m.group(1)) != i + 1 or m.group(2) != instruction(*steps[i]):
            return "copied step"
        if int(m.group(3)) != own:
            return "carried value"
        truth, own = apply(steps[i][0], truth, steps[i][1]), int(re.findall(r"-?\d+", m.group(0))[-1])
        if own != truth:
            return "arithmetic"
    return "wrong step count" if len(lines) != len(steps) else "answer"


def main(results: str = "results/base0") -> None:
    for level in RICHNESS:
        rows = [json.loads(line) for line in Path(results, f"section3/traces/{level}.samples.jsonl").open()]
        counts = Counter("correct" if r["correct"] else first_failure(r["text"], r["problem_id"]) for r in rows)
        print(f"{level:10s}", "  ".join(f"{k} {v / len(rows):.3f}" for k, v in counts.most_common()))


if __name__ == "__main__":
    main(*sys.argv[1:])
