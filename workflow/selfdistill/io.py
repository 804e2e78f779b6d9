"""Small file helpers every stage uses: JSON and JSONL, written atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path


def read_jsonl(path: str | Path) -> list[dict]:
    """The rows of a JSONL file; a line that is not JSON is named with its file and number."""
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {number}: not valid JSON ({err.msg} at column {err.colno}); "
                                 "a truncated file is remade by rerunning the job that writes it") from None
    return rows


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


def plain_modes(path: str | Path) -> None:
    """Give `path`, or every file under it, the mode open() gives a new file under the umask.
    transformers writes weights through a private temporary file, mode 0600, which would keep
    them from the other users of a shared results folder."""
    umask = os.umask(0)
    os.umask(umask)
    path = Path(path)
    for f in [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file()):
        os.chmod(f, 0o666 & ~umask)
