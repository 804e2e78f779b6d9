"""Stage: the math world's problem splits and fixed coverage sets, from the configured sources.

Local sources arrive as inputs named like the sources (`pool`, `coverage_<label>`,
`ood_<benchmark>`); URLs and hf:// sources are downloaded here, into $SELFDISTILL_CACHE.
"""
from selfdistill.data.math_world import make_splits
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        for name, rows in make_splits(params, vars(inp)).items():
            write_jsonl(getattr(out, name), rows)


if __name__ == "__main__":
    main()
