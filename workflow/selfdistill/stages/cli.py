"""The command line every stage shares, and the provenance record written when a stage succeeds.

    python -m selfdistill.stages.<name> --params JSON --in name=path ... --out name=path ... [--cell JSON]
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import random
import sys
import time
from contextlib import contextmanager
from types import SimpleNamespace

from selfdistill.io import plain_modes
from selfdistill.lineage.codehash import code_hash
from selfdistill.lineage.provenance import write_records
from selfdistill.training.parallel import is_main_process


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"{flag} expects name=path, got {item!r}")
        out[name] = path
    return out


@contextmanager
def stage_run(description: str, argv: list[str] | None = None):
    """Yields (params, inputs, outputs); once the body has written its outputs, records for each
    one which code, settings, inputs, seed and packages made it (a `.prov.json` sidecar)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default="{}", help="the stage's settings, one JSON object")
    ap.add_argument("--in", dest="inputs", nargs="*", default=[], metavar="NAME=PATH")
    ap.add_argument("--out", dest="outputs", nargs="*", default=[], metavar="NAME=PATH")
    ap.add_argument("--cell", default="{}", help="the grid cell (rule wildcards), one JSON object")
    ap.add_argument("--rule", default=None, help="the Snakemake rule running this stage, for the record")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    params, inputs, outputs = json.loads(args.params), _pairs(args.inputs, "--in"), _pairs(args.outputs, "--out")
    started = time.time()
    # the imported libraries' objects live until the process ends: left out of the collector,
    # they cost no garbage-collection passes while the stage runs nor at its exit (about 0.8 s
    # a job once torch, transformers and TRL are loaded; benchmarks/README.md)
    gc.freeze()
    yield params, SimpleNamespace(**inputs), SimpleNamespace(**outputs)
    if not is_main_process():
        return  # in a multi-GPU training job, the first process writes the outputs and records
    for path in outputs.values():
        plain_modes(path)
    main = sys.modules["__main__"].__spec__
    cell = json.loads(args.cell)
    stage, stage_code = (main.name, code_hash(main.name)) if main else (description, None)  # once per job
    for label, (part_in, part_out) in parts(inputs, outputs).items():
        # keys sorted as --cell gives them, so a part's record reads as a one-checkpoint job's
        part_cell = cell if label is None else dict(sorted({**cell, "checkpoint": label}.items()))
        write_records(stage=stage, params=params, inputs=part_in, outputs=part_out, started=started,
                      cell=part_cell, stage_code=stage_code, rule=args.rule)


def parts(inputs: dict[str, str], outputs: dict[str, str]) -> dict[str | None, tuple[dict, dict]]:
    """{label: (inputs, outputs)} of a job that runs one stage on several checkpoints: a name
    `<name>@<label>` belongs to checkpoint <label> as <name>, a name without one to every
    checkpoint. One part, labelled None, where no name has a label."""
    labels = list(dict.fromkeys(name.partition("@")[2] for name in [*inputs, *outputs] if "@" in name))

    def of(files: dict[str, str], label: str | None) -> dict[str, str]:
        return {name.partition("@")[0]: path for name, path in files.items()
                if name.partition("@")[2] in ("", label)}

    return {label: (of(inputs, label), of(outputs, label)) for label in labels or [None]}


def seed_everything(seed: int) -> None:
    # imported here: analysis stages share this module and must not pay for torch
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
