"""Stage: one of the arithmetic world's problem splits (train, in_domain or ood).

Each split has a random stream and a share of the problem space of its own (arith.draw), so its
settings are all this job reads: changing one split leaves the others and the corpus as they were.
"""
from selfdistill.data.arith_splits import split_rows
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        write_jsonl(out.problems, split_rows(params))


if __name__ == "__main__":
    main()
