"""Stage: the arithmetic world's premises, measured on its base model (evaluation/premises.py),
as a table of rows each with its interval, rule and verdict (reporting/premises.py).

The confident traces are the error model's (`arith.errors`): what a solver shown the solution
writes. The SFT probe uses the grid's SFT settings (grid.train.sft_sg) on as many problems as
D_sg holds, and ten times that. The forced doubt samples as the base's OOD evaluation did, with
twice its token budget: every doubt adds a recount that the plain samples did not have to fit.
"""
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfdistill.data.arith import parse_problem
from selfdistill.data.arith_corpus import error_model
from selfdistill.evaluation.premises import first_results, forced_doubt_accuracy, recounts_right, sft_change
from selfdistill.evaluation.uncertainty import bootstrap
from selfdistill.io import read_jsonl
from selfdistill.reporting.premises import table
from selfdistill.stages.cli import seed_everything, stage_run


def problems(path: str) -> list:
    return [parse_problem(r["problem_id"], r["prompt"]) for r in read_jsonl(path)]


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        seed = params["seed"]
        seed_everything(seed)
        confident = error_model(params["errors"], params["error_model"]).confident
        tokenizer = AutoTokenizer.from_pretrained(inp.model)
        model = AutoModelForCausalLM.from_pretrained(inp.model, dtype=torch.float32)
        train, ood = problems(inp.train), problems(inp.ood)
        before = first_results(model, tokenizer, ood, confident)
        wrong = np.array([1 - r["greedy"] for r in before])
        # ten times D_sg may be more problems than the training split holds: then all of them
        sizes = sorted({min(n, len(train)) for n in (params["d_sg"], 10 * params["d_sg"])})
        sft = {n: sft_change(model, tokenizer, train, ood, confident, n, params["sft"], before, seed) for n in sizes}
        samples = read_jsonl(inp.ood_samples)
        right = recounts_right([r["text"] for r in samples])
        plain = {}
        for r in samples:
            plain.setdefault(r["problem_id"], []).append(float(r["correct"]))
        evaluated = [p for p in ood if p.problem_id in plain]
        forced = forced_doubt_accuracy(model, tokenizer, evaluated, params["sampling"], params["batch_size"], seed)
        # paired by problem: the mean over a problem's samples, forced minus plain
        gain = np.array([np.mean(f) - np.mean(plain[p.problem_id]) for p, f in zip(evaluated, forced)])
        frame = table((bootstrap(wrong), len(wrong)), sft,
                      (bootstrap(right) if len(right) else None, len(right)), (bootstrap(gain), len(gain)))
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out.table, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
