"""Stage: sample k completions per prompt from a model, grade them, and summarize.

Used for every evaluation (base model, distilled checkpoints) and for the Section 3 teacher
traces, whose prompts carry the richness context. Inputs `prompts<X>` pair with outputs
`samples<X>` and `metrics<X>` for any suffix X, so one job evaluates a checkpoint on several
splits while loading the model once; inputs and outputs named `<name>@<label>` (stages/cli.py)
make one job evaluate several checkpoints, one after another, each as a job of its own would.
Under vLLM each checkpoint gets a process of its own: an engine does not reliably hand back its
GPU memory to the process that made it, so the next checkpoint's engine could not start.

Finished work is kept in shards as it goes (decoding/shards.py), each `shard_batches` batches of
completions, until the whole job has written its outputs: a rerun of a killed job samples only
the shards it lacks, and loads no model for a checkpoint whose shards are all done.
"""
import functools
import gc
import logging
import multiprocessing
from types import SimpleNamespace

from transformers import AutoTokenizer

from selfdistill.data.problems import read_problems
from selfdistill.data.worlds import grader
from selfdistill.decoding.generation import SamplingParams, load_generator
from selfdistill.decoding.shards import ShardStore, remove_shards, sample_in_shards
from selfdistill.decoding.sampling import check_prompt_lengths, max_positions, sample_and_grade, settings_block
from selfdistill.evaluation.metrics import EPISTEMIC_WORDS
from selfdistill.evaluation.per_benchmark import with_benchmarks
from selfdistill.io import write_json, write_jsonl
from selfdistill.lineage.codehash import code_hash
from selfdistill.lineage.provenance import hash_path, read_record
from selfdistill.stages.cli import parts, stage_run


# settings that change how the work is batched, never what a completion draws
UNSHARDED = ("batch_size", "shard_batches")


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        runs = list(parts(vars(inp), vars(out)).values())
        code = code_hash(__spec__.name)
        for part_in, part_out in runs:
            args = (params, SimpleNamespace(**part_in), SimpleNamespace(**part_out), code)
            if params["backend"] != "hf" and len(runs) > 1:
                in_own_process(evaluate, *args)
            else:
                evaluate(*args)
        # every output is written: the shards have served their purpose
        for name, path in vars(out).items():
            if name.startswith("samples"):
                remove_shards(path)


def in_own_process(function, *args) -> None:
    """`function(*args)` in a fresh interpreter, which hands every byte it held back on exit."""
    process = multiprocessing.get_context("spawn").Process(target=function, args=args)
    process.start()
    process.join()
    if process.exitcode:
        raise SystemExit(f"evaluating {args[1].model} failed (exit code {process.exitcode}); its error is above")


def evaluate(params: dict, inp: SimpleNamespace, out: SimpleNamespace, code: str) -> None:
    # loaded at the first shard to sample: a resumed job's finished checkpoints need no model
    @functools.cache
    def generator():
        logging.info("loading the model %s", inp.model)
        return load_generator(inp.model, params["backend"], batch_size=params["batch_size"])

    tokenizer = AutoTokenizer.from_pretrained(inp.model)
    sampling = SamplingParams.from_config(
        params["sampling"], banned_words=EPISTEMIC_WORDS if params.get("ban_epistemic") else ())
    size = max(1, params["shard_batches"] * params["batch_size"] // sampling.n)
    model = shard_identity(inp.model)
    for name, path in vars(inp).items():
        if not name.startswith("prompts"):
            continue
        suffix = name[len("prompts"):]
        items = read_problems(path, params["world"])[:params.get("max_problems")]  # None keeps them all
        check_prompt_lengths(items, path, tokenizer, max_positions(inp.model), params.get("enable_thinking"))
        samples = getattr(out, "samples" + suffix)
        store = ShardStore(samples, {"model": model, "prompts": hash_path(path), "shard_problems": size, "code": code,
                                     "settings": {k: v for k, v in params.items() if k not in UNSHARDED}})
        # no prompts happens: D_sg's teacher prompts need a correct unguided sample
        rows = sample_in_shards(items, size, store, lambda shard: sample_and_grade(
            generator(), shard, sampling, grader(params["world"]), params.get("enable_thinking")))
        write_jsonl(samples, rows)
        metrics = with_benchmarks(rows) if rows else {"num_samples": 0}
        write_json(getattr(out, "metrics" + suffix),
                   {**metrics, "config": settings_block(params, inp.model, path, len(items))})
    generator.cache_clear()
    gc.collect()  # the next checkpoint's model loads into the memory this one held


def shard_identity(model: str) -> str:
    """The model's sha256: from its provenance record where it has one, else hashed here."""
    record = read_record(model)
    return record["sha256"] if record and record.get("sha256") else hash_path(model)


if __name__ == "__main__":
    main()
