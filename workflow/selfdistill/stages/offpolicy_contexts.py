"""Stage: the teacher prompts of D_sg, each showing a correct unguided sample (c = s)."""
import logging

from selfdistill.io import read_jsonl, write_jsonl
from selfdistill.stages.cli import stage_run
from selfdistill.training.offpolicy import guided_prompts


def main(argv=None):
    with stage_run(__doc__, argv) as (_, inp, out):
        coverage = read_jsonl(inp.coverage)
        prompts = guided_prompts(coverage, read_jsonl(inp.unguided))
        logging.info("%d of %d coverage rows have a correct unguided sample", len(prompts), len(coverage))
        write_jsonl(out.prompts, prompts)


if __name__ == "__main__":
    main()
