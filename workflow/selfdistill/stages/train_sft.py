"""Stage: off-policy self-distillation of one grid cell, SFT on D_ug or D_sg (Section 4).

Its data comes by the protocol in params["protocol"] (selfdistill.training.offpolicy): "section3" reads
the Section 3 problems and their teacher traces under c = s, "coverage" the coverage set and its
unguided and guided samples.

Under `accelerate launch` every process trains and saves the model together; the first one
alone writes the other outputs.
"""
import logging
import math
import shutil
import tempfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from selfdistill.io import read_jsonl, write_json
from selfdistill.stages.cli import seed_everything, stage_run
from selfdistill.training.offpolicy import equal_datasets, section3_datasets
from selfdistill.training.parallel import is_main_process
from selfdistill.training.sft import run_sft


def main(argv=None):
    with stage_run(__doc__, argv) as (params, inp, out):
        s, seed = params["train"], params["seed"]
        seed_everything(seed)
        if params.get("protocol", "coverage") == "section3":
            data = section3_datasets(read_jsonl(inp.problems), read_jsonl(inp.guided))
        else:
            data = equal_datasets(read_jsonl(inp.coverage), read_jsonl(inp.unguided), read_jsonl(inp.guided))
        examples = data[params["method"]]
        logging.info("%s: %d examples (%s protocol)", params["method"], len(examples), params.get("protocol", "coverage"))
        if len(examples) < s["min_examples"]:
            raise SystemExit(f"{params['method']} has {len(examples)} examples, fewer than "
                             f"min_examples={s['min_examples']}; sample more (grid.offpolicy.sampling.n) "
                             "or lower the minimum")
        tokenizer = AutoTokenizer.from_pretrained(inp.model)
        model = AutoModelForCausalLM.from_pretrained(inp.model, dtype=torch.float32)
        steps = 0
        if is_main_process():
            shutil.rmtree(out.model, ignore_errors=True)
        if examples:  # with min_examples 0 an empty dataset leaves the base model as the checkpoint
            with tempfile.TemporaryDirectory() as scratch:
                trainer = run_sft(model, tokenizer, examples, scratch, learning_rate=s["learning_rate"],
                                  epochs=s["epochs"], batch_size=s["batch_size"], warmup_ratio=s["warmup_ratio"],
                                  max_length=s["max_length"], seed=seed, lr_scheduler="constant_with_warmup",
                                  micro_batch_size=s.get("micro_batch_size"),
                                  gradient_checkpointing=s.get("gradient_checkpointing", False),
                                  enable_thinking=params.get("enable_thinking"))
                # every process takes part: FSDP and ZeRO-3 gather the sharded weights to save them
                trainer.save_model(out.model)
            # the Trainer's count of optimizer steps: epochs x batches per epoch, rounded up
            steps = math.ceil(s["epochs"] * math.ceil(len(examples) / s["batch_size"]))
        if not is_main_process():
            return
        if not examples:
            model.save_pretrained(out.model)
        tokenizer.save_pretrained(out.model)
        write_json(out.manifest, {"method": params["method"], "final_step": steps, "num_examples": len(examples),
                                  "steps": {}, "final": out.model, "resumed_from": None, "log_history": []})


if __name__ == "__main__":
    main()
