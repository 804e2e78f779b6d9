"""Stage: the arithmetic world's pretraining corpus, from problems of its own share and stream."""
from selfdistill.data.arith_splits import corpus_rows
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        write_jsonl(out.corpus, corpus_rows(params))


if __name__ == "__main__":
    main()
