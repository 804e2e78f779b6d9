"""Stage: the arithmetic world's problem splits and pretraining corpus."""
import random

from selfdistill.data.arith import ArithConfig, make_splits
from selfdistill.data.arith_corpus import correct_expert_trace, pretrain_examples
from selfdistill.data.templates import student_prompt
from selfdistill.io import write_jsonl
from selfdistill.stages.cli import stage_run


def main(argv=None):
    with stage_run(__doc__, argv) as (params, _, out):
        cfg = ArithConfig.from_dict(params)
        splits = make_splits(cfg)
        rng = random.Random(cfg.seed + 1)
        for name in ("train", "in_domain", "ood"):
            # `reference`: a correct worked solution, for stages that need one the model cannot give
            write_jsonl(getattr(out, name), [{"problem_id": p.problem_id, "prompt": student_prompt(p.text),
                                              "answer": str(p.answer),
                                              "reference": correct_expert_trace(p, rng, cfg.style)}
                                             for p in splits[name]])
        corpus = pretrain_examples(splits["pretrain"], rng, cfg.style, params["guided_full"],
                                   params["guided_nothink"], params["guided_unchecked"])
        write_jsonl(out.corpus, corpus)


if __name__ == "__main__":
    main()
