"""Stage: sample k completions per prompt from a model, grade them, and summarize.

Used for every evaluation (base model, distilled checkpoints) and for the Section 3 teacher
traces, whose prompts carry the richness context.
"""
from selfdistill.generation import SamplingParams, load_generator
from selfdistill.io import read_jsonl, write_json, write_jsonl
from selfdistill.metrics import EPISTEMIC_WORDS, summarize
from selfdistill.sampling import sample_and_grade
from selfdistill.stages.cli import stage_run
from selfdistill.worlds import grader


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        items = read_jsonl(inp.prompts)
        gen = load_generator(inp.model, params["backend"], batch_size=params["batch_size"])
        s = params["sampling"]
        sampling = SamplingParams(n=s["n"], temperature=s["temperature"], top_p=s["top_p"],
                                  max_new_tokens=s["max_new_tokens"], seed=s["seed"],
                                  banned_words=EPISTEMIC_WORDS if params.get("ban_epistemic") else ())
        rows = sample_and_grade(gen, items, sampling, grader(params["world"]), params.get("enable_thinking"))
        write_jsonl(out.samples, rows)
        write_json(out.metrics, summarize(rows))


if __name__ == "__main__":
    main()
