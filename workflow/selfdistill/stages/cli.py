"""The command line every stage shares: `--params JSON --in name=path ... --out name=path ...`."""
from __future__ import annotations

import argparse
import json
import logging
import random
from types import SimpleNamespace

import numpy as np
import torch


def _pairs(items: list[str], flag: str) -> SimpleNamespace:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SystemExit(f"{flag} expects name=path, got {item!r}")
        out[name] = path
    return SimpleNamespace(**out)


def parse(description: str, argv: list[str] | None = None) -> tuple[dict, SimpleNamespace, SimpleNamespace]:
    """Returns (params, inputs, outputs) and sets up logging."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default="{}", help="the stage's settings, one JSON object")
    ap.add_argument("--in", dest="inputs", nargs="*", default=[], metavar="NAME=PATH")
    ap.add_argument("--out", dest="outputs", nargs="*", default=[], metavar="NAME=PATH")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return json.loads(args.params), _pairs(args.inputs, "--in"), _pairs(args.outputs, "--out")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
