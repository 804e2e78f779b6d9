"""Stage: sample k completions per prompt from a model, grade them, and summarize.

Used for every evaluation (base model, distilled checkpoints) and for the Section 3 teacher
traces, whose prompts carry the richness context. Inputs `prompts<X>` pair with outputs
`samples<X>` and `metrics<X>` for any suffix X, so one job evaluates a checkpoint on several
splits while loading the model once; inputs and outputs named `<name>@<label>` (stages/cli.py)
make one job evaluate several checkpoints, one after another, each as a job of its own would.
Under vLLM each checkpoint gets a process of its own: an engine does not reliably hand back its
GPU memory to the process that made it, so the next checkpoint's engine could not start.
"""
import gc
import multiprocessing
from types import SimpleNamespace

from selfdistill.data.problems import read_problems
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.sampling import check_prompt_lengths, max_positions, sample_and_grade, settings_block
from selfdistill.evaluation.metrics import EPISTEMIC_WORDS
from selfdistill.evaluation.per_benchmark import with_benchmarks
from selfdistill.io import write_json, write_jsonl
from selfdistill.stages.cli import parts, stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        runs = list(parts(vars(inp), vars(out)).values())
        for part_in, part_out in runs:
            args = (params, SimpleNamespace(**part_in), SimpleNamespace(**part_out))
            if params["backend"] != "hf" and len(runs) > 1:
                in_own_process(evaluate, *args)
            else:
                evaluate(*args)


def in_own_process(function, *args) -> None:
    """`function(*args)` in a fresh interpreter, which hands every byte it held back on exit."""
    process = multiprocessing.get_context("spawn").Process(target=function, args=args)
    process.start()
    process.join()
    if process.exitcode:
        raise SystemExit(f"evaluating {args[1].model} failed (exit code {process.exitcode}); its error is above")


def evaluate(params: dict, inp: SimpleNamespace, out: SimpleNamespace) -> None:
    gen = load_generator(inp.model, params["backend"], batch_size=params["batch_size"])
    sampling = SamplingParams.from_config(
        params["sampling"], banned_words=EPISTEMIC_WORDS if params.get("ban_epistemic") else ())
    for name, path in vars(inp).items():
        if not name.startswith("prompts"):
            continue
        suffix = name[len("prompts"):]
        items = read_problems(path, params["world"])[:params.get("max_problems")]  # None keeps them all
        check_prompt_lengths(items, path, gen.tokenizer, max_positions(inp.model), params.get("enable_thinking"))
        # no prompts happens: D_sg's teacher prompts need a correct unguided sample
        rows = sample_and_grade(gen, items, sampling, grader(params["world"]),
                                params.get("enable_thinking")) if items else []
        write_jsonl(getattr(out, "samples" + suffix), rows)
        metrics = with_benchmarks(rows) if rows else {"num_samples": 0}
        write_json(getattr(out, "metrics" + suffix),
                   {**metrics, "config": settings_block(params, inp.model, path, len(items))})
    del gen
    gc.collect()  # the next checkpoint's model loads into the memory this one held


if __name__ == "__main__":
    main()
