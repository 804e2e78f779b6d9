"""Stage: build the tokenizer and pretrain the base model from scratch on the world's corpus."""
import logging
import tempfile

from selfdistill.io import read_jsonl
from selfdistill.models.model import init_model
from selfdistill.models.tokenizer import build_tokenizer
from selfdistill.stages.cli import seed_everything, stage_run
from selfdistill.training.checkpoints import save_model
from selfdistill.training.sft import run_sft


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        seed_everything(params["train"]["seed"])
        corpus = read_jsonl(inp.corpus)
        tokenizer = build_tokenizer([e["prompt"] + e["completion"] for e in corpus])
        model = init_model(tokenizer, seed=params["train"]["seed"], **params["arch"])
        logging.info("vocabulary %d, parameters %.2fM", len(tokenizer), model.num_parameters() / 1e6)
        with tempfile.TemporaryDirectory() as scratch:
            run_sft(model, tokenizer, corpus, scratch, **params["train"])
        save_model(model, tokenizer, out.model)


if __name__ == "__main__":
    main()
