"""Small file helpers every stage uses: JSON and JSONL, written atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _atomic_write(path: str | Path, text: str) -> None:
    """Write to a temporary name, then rename, so a killed job never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_jsonl(path: str | Path, rows: list[dict]) -> None:
    _atomic_write(path, "".join(json.dumps(r) + "\n" for r in rows))


def write_json(path: str | Path, obj) -> None:
    _atomic_write(path, json.dumps(obj, indent=2) + "\n")


def read_json(path: str | Path):
    with open(path) as f:
        return json.load(f)
