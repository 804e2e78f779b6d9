"""Stage: one task-coverage training set, and its distinct (seen) problems.

The set is the world's fixed one for the level where it has one (input `given`, kept row for
row), else drawn from the world's pool (input `pool`).
"""
import logging

from selfdistill.data.coverage import coverage_set, distinct_problems
from selfdistill.io import read_jsonl, write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        given = getattr(inp, "given", None)
        rows = read_jsonl(given) if given else coverage_set(read_jsonl(inp.pool), params["label"], params["seed"])
        seen = distinct_problems(rows, params["seen_max"])
        logging.info("coverage %s: %d rows, %d distinct problems evaluated as seen",
                     params["label"], len(rows), len(seen))
        write_jsonl(out.rows, rows)
        write_jsonl(out.seen, seen)


if __name__ == "__main__":
    main()
