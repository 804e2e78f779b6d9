"""Stage: the teacher's probability of each epistemic word where the unguided student wrote it,
at every richness level of Section 3 (none is the student itself)."""
from pathlib import Path

import pandas as pd

from selfdistill.data.templates import RICHNESS
from selfdistill.decoding.generation import HFGenerator
from selfdistill.evaluation.probe import word_probabilities
from selfdistill.io import read_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        # the generator's loading: device, dtype and a pad token for batches, as sampling had them
        gen = HFGenerator(inp.model, batch_size=params["batch_size"])
        model, tokenizer = gen.model, gen.tokenizer
        student = [r for r in read_jsonl(inp.student) if r["epistemic"] > 0]
        rows = []
        for level in RICHNESS:
            prompt = {c["problem_id"]: c["prompt"] for c in read_jsonl(getattr(inp, level))}
            probs = word_probabilities(model, tokenizer, [prompt[r["problem_id"]] for r in student],
                                       [r["text"] for r in student], params["batch_size"],
                                       params.get("enable_thinking"))
            rows += [{"richness": level, "word": w, "probability": p} for pairs in probs for w, p in pairs]
        df = pd.DataFrame(rows, columns=["richness", "word", "probability"])
        table = pd.concat([df.assign(word="all"), df]).groupby(["richness", "word"], sort=False)["probability"]
        summary = table.agg(positions="size", mean_probability="mean", median_probability="median").reset_index()
        Path(out.table).parent.mkdir(parents=True, exist_ok=True)
        summary.to_csv(out.table, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
