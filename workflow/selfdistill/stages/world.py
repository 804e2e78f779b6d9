"""Stage: one of the arithmetic world's problem splits (train, in_domain or ood).

Each split has a random stream and a share of the problem space of its own (arith.draw), so its
settings are all this job reads: changing one split leaves the others and the corpus as they were.
"""
import random

from selfdistill.data.arith import Difficulty, draw
from selfdistill.data.arith_corpus import error_model, split_rows
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        seed, name = params["seed"], params["split"]
        problems = draw(seed, name, Difficulty(**params["difficulty"]), params["size"])
        errors = error_model(params["errors"], params["error_model"])
        write_jsonl(out.problems, split_rows(problems, random.Random(f"{seed}/{name}/reference"), errors))


if __name__ == "__main__":
    main()
