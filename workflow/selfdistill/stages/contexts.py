"""Stage: the teacher's prompts at each richness level (none, s_nothink, regen, s)."""
from selfdistill.data.section3 import contexts, first_correct
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import sample_and_grade
from selfdistill.io import read_jsonl, write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        selected = read_jsonl(inp.selected)
        by_level = contexts(selected, regen={p["problem_id"]: "" for p in selected})
        # regen: the model's own response while it is shown the full solution s
        gen = load_generator(inp.model, params["backend"], batch_size=params["batch_size"])
        sampling = SamplingParams.from_config(params["sampling"], n=params["regen_tries"], seed=params["seed"])
        rows = sample_and_grade(gen, by_level["s"], sampling, grader(params["world"]), params.get("enable_thinking"))
        by_level = contexts(selected, regen=first_correct(rows))
        for level, items in by_level.items():
            write_jsonl(getattr(out, level), items)


if __name__ == "__main__":
    main()
