"""Stage: the arithmetic world's pretraining corpus, from problems of its own share and stream."""
import random

from selfdistill.data.arith import Difficulty, draw
from selfdistill.data.arith_corpus import error_model, pretrain_examples
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        problems = draw(params["seed"], "pretrain", Difficulty(**params["difficulty"]), params["size"])
        errors = error_model(params["errors"], params["error_model"])
        write_jsonl(out.corpus, pretrain_examples(problems, random.Random(f"{params['seed']}/corpus"), errors,
                                                  params["guided_full"], params["guided_nothink"],
                                                  params["guided_unchecked"]))


if __name__ == "__main__":
    main()
