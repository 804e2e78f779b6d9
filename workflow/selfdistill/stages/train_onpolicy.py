"""Stage: on-policy training of one grid cell (SDPO or GRPO) from the base model, resumable.

Full trainer checkpoints go to the cell's scratch folder (params["scratch"], outside the rule's
outputs so a failed job keeps them); a rerun with the same settings resumes from the last one.
The step checkpoints are published as model-only folders and listed in the manifest. Under
`accelerate launch` every process trains and saves the model together; the first one alone
manages the scratch folder and writes the other outputs.
"""
import json
import logging
import shutil
import time
from pathlib import Path

import torch
from accelerate import PartialState
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerState
from transformers.trainer import TRAINER_STATE_NAME

from selfdistill.data.problems import read_problems
from selfdistill.io import read_json, write_json
from selfdistill.lineage.provenance import write_records
from selfdistill.stages.cli import seed_everything, stage_run
from selfdistill.training.checkpoints import checkpoint_step, last_checkpoint, publish, scratch_checkpoints, step_labels
from selfdistill.training.onpolicy import trainer_for
from selfdistill.training.parallel import is_main_process


def prepare_scratch(scratch: Path, params: dict) -> Path | None:
    """The checkpoint to resume from, or None; scratch left by other settings is discarded."""
    marker = scratch / "settings.json"
    settings = {k: v for k, v in params.items() if k != "scratch"}
    if marker.exists() and read_json(marker) != settings:
        logging.info("scratch %s was made with other settings; starting over", scratch)
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    write_json(marker, settings)
    return last_checkpoint(scratch)


def main(argv=None):
    started = time.time()
    with stage_run(__doc__, argv) as (params, inp, out):
        s, seed, scratch = params["train"], params["seed"], Path(params["scratch"])
        seed_everything(seed)
        # the first process clears scratch left by other settings before any process looks in it
        with PartialState().main_process_first():
            resume = prepare_scratch(scratch, params) if is_main_process() else last_checkpoint(scratch)
        if resume:
            logging.info("resumed from %s", resume)
        tokenizer = AutoTokenizer.from_pretrained(inp.model)
        if resume and checkpoint_step(resume) >= s["max_steps"]:
            # killed after its last checkpoint: that checkpoint is the final model. Resuming it
            # would train one step past max_steps (the Trainer checks the limit after a step).
            state = TrainerState.load_from_json(str(resume / TRAINER_STATE_NAME))
            if is_main_process():
                publish(resume, out.model)
        else:
            model = AutoModelForCausalLM.from_pretrained(inp.model, dtype=torch.float32)
            rows = read_problems(inp.coverage, params["world"])
            trainer = trainer_for(params["method"], s, model, tokenizer, rows, params["world"], str(scratch), seed,
                                  use_cpu=not torch.cuda.is_available(), enable_thinking=params.get("enable_thinking"))
            trainer.train(resume_from_checkpoint=str(resume) if resume else None)
            state = trainer.state
            # every process takes part: FSDP and ZeRO-3 gather the sharded weights to save them
            trainer.save_model(out.model)
        logging.info("finished at global step %d", state.global_step)
        if state.global_step != s["max_steps"]:
            raise SystemExit(f"training ended at global step {state.global_step}, not at "
                             f"max_steps={s['max_steps']}; the scratch {scratch} is kept for inspection")
        if not is_main_process():
            return

        found = scratch_checkpoints(scratch)
        wanted = step_labels(s["max_steps"], s["checkpoint_interval"])
        missing = [n for n in wanted if n not in found]
        if missing:
            raise SystemExit(f"trainer checkpoints for steps {missing} are missing from {scratch}")
        Path(out.checkpoints).mkdir(parents=True, exist_ok=True)
        steps = {f"step{n}": str(Path(out.checkpoints) / f"step{n}") for n in wanted}
        for n in wanted:
            publish(found[n], steps[f"step{n}"])
        # evaluations read a step folder, not the whole checkpoints output: each gets its own record
        write_records(stage=__spec__.name, params=params, inputs=vars(inp), outputs=steps, started=started)
        tokenizer.save_pretrained(out.model)
        write_json(out.manifest, {
            "method": params["method"], "final_step": state.global_step,
            "resumed_from": str(resume) if resume else None,
            "steps": steps,
            "final": out.model, "log_history": json.loads(json.dumps(state.log_history, default=float))})
        shutil.rmtree(scratch)  # optimizer states are large; the outputs hold what later stages read


if __name__ == "__main__":
    main()
