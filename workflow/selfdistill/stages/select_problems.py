"""Stage: pick training problems the base model solves at a middling rate (Section 3)."""
import logging
import random

from selfdistill.data.problems import read_problems
from selfdistill.data.section3 import select_problems
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import check_prompt_lengths, max_positions, sample_and_grade
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        pool = read_problems(inp.problems, params["world"])
        candidates = random.Random(params["seed"]).sample(pool, min(params["candidates"], len(pool)))
        gen = load_generator(inp.model, params["backend"], batch_size=params["batch_size"])
        check_prompt_lengths(candidates, inp.problems, gen.tokenizer, max_positions(inp.model),
                             params.get("enable_thinking"))
        sampling = SamplingParams.from_config(params["sampling"], n=params["samples"], seed=params["seed"])
        rows = sample_and_grade(gen, candidates, sampling, grader(params["world"]), params.get("enable_thinking"))
        low, high = params["pass_rate"]
        eligible = select_problems(candidates, rows, low, high, len(candidates))
        chosen = eligible[:params["max_problems"]]
        logging.info("%d of %d candidates have a pass rate in [%s, %s]; keeping %d",
                     len(eligible), len(candidates), low, high, len(chosen))
        if not chosen:
            raise SystemExit(f"no candidate has a pass rate in [{low}, {high}]; raise section3.candidates "
                             "or widen section3.pass_rate")
        write_jsonl(out.selected, chosen)


if __name__ == "__main__":
    main()
