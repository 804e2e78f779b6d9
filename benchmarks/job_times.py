"""Wall time per rule from a Snakemake log: jobs, total, mean and longest, largest total first.
Usage: python benchmarks/job_times.py .snakemake/log/<run>.snakemake.log"""
import re
import sys
from collections import defaultdict
from datetime import datetime

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]$")


def job_seconds(lines: list[str]) -> dict[str, list[float]]:
    now, rule, started, rule_of, seconds = None, None, {}, {}, defaultdict(list)
    for line in lines:
        if m := STAMP.match(line):
            now = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = m.group(1)
        elif (m := re.match(r"^\s+jobid: (\d+)$", line)) and rule:
            started[m.group(1)], rule_of[m.group(1)], rule = now, rule, None
        elif (m := re.match(r"^Finished jobid: (\d+)", line)) and m.group(1) in started:
            seconds[rule_of[m.group(1)]].append((now - started[m.group(1)]).total_seconds())
    return seconds


def main(path: str) -> None:
    seconds = job_seconds(open(path).read().splitlines())
    print(f"{'rule':22s} {'jobs':>4s} {'total s':>8s} {'mean s':>7s} {'max s':>6s}")
    for rule, s in sorted(seconds.items(), key=lambda kv: -sum(kv[1])):
        print(f"{rule:22s} {len(s):4d} {sum(s):8.0f} {sum(s) / len(s):7.0f} {max(s):6.0f}")
    print(f"{'all jobs':22s} {sum(map(len, seconds.values())):4d} {sum(map(sum, seconds.values())):8.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
