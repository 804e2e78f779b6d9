"""Provenance records for pipeline artifacts, and the audit that checks them against the disk.

Every stage output gets a sidecar `<artifact>.prov.json` naming the code, settings, inputs, seed
and package versions that made it, with the artifact's sha256. `audit` follows those records from
an artifact back to the raw data and reports whatever no longer matches. Paths are stored as the
stage received them (relative to the workflow root), so audit from that directory.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import selfdistill
from selfdistill.io import read_json, write_json
from selfdistill.lineage.downloads import noted

SUFFIX = ".prov.json"
RESULTS = "results"  # inputs inside a folder of this name are pipeline outputs and need a record
PACKAGES = ("torch", "transformers", "trl", "datasets", "accelerate", "tokenizers",
            "snakemake", "dvc", "numpy", "pandas")
_CHUNK = 1 << 20  # model weights run to gigabytes: never read a whole file into memory
_PACKAGE_DIR = Path(selfdistill.__file__).resolve().parent
# Snakemake dates a directory output by this empty marker, created inside it after the stage
# has written its record; it is bookkeeping, not content
_SNAKEMAKE_MARKER = ".snakemake_timestamp"


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _file_hashes(root: Path, pattern: str = "*") -> dict[str, str]:
    """{relative posix path: sha256} of every file under `root` whose name matches `pattern`."""
    return {p.relative_to(root).as_posix(): _file_sha256(p) for p in root.rglob(pattern)
            if p.is_file() and p.name != _SNAKEMAKE_MARKER}


def _combine(files: dict[str, str]) -> str:
    h = hashlib.sha256()
    for rel, digest in sorted(files.items()):
        h.update(f"{rel}\0{digest}\n".encode())  # NUL cannot occur in a path, so pairs never blur
    return h.hexdigest()


def hash_path(path) -> str:
    """sha256 of a file; for a directory, of its sorted (relative path, file sha256) pairs."""
    path = Path(path)
    if path.is_file():
        return _file_sha256(path)
    if path.is_dir():
        return _combine(_file_hashes(path))
    raise FileNotFoundError(f"cannot hash {str(path)!r}: it is neither an existing file nor a directory")


def sidecar(path) -> Path:
    """Where an artifact's record lives: `results/base_model` -> `results/base_model.prov.json`."""
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def read_record(path) -> dict | None:
    side = sidecar(path)
    return read_json(side) if side.exists() else None


def _git(*args: str, cwd) -> str | None:
    """stdout of a git command, or None where git is absent or this is not a checkout."""
    try:
        run = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def code_state() -> dict:
    top = _git("rev-parse", "--show-toplevel", cwd=_PACKAGE_DIR)
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=top) if top else None
    return {"git_commit": _git("rev-parse", "HEAD", cwd=top) if top else None,
            "git_dirty": None if status is None else bool(status),
            # catches code edits even in an installed copy or a tarball without .git
            "package_sha256": _combine(_file_hashes(_PACKAGE_DIR, "*.py"))}


def versions() -> dict:
    """Installed versions from package metadata, so nothing heavy is imported; None if absent."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _device() -> dict:
    # importing torch just to name the GPU would add seconds to every light stage
    torch = sys.modules.get("torch")
    gpus = None
    if torch is not None and torch.cuda.is_available():
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or None, "cpu_count": os.cpu_count(), "gpus": gpus}


def _find_seed(obj):
    """The first "seed" key found in nested dicts, depth first; None if there is none."""
    if isinstance(obj, dict):
        if "seed" in obj:
            return obj["seed"]
        for value in obj.values():
            if (seed := _find_seed(value)) is not None:
                return seed
    return None


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def write_records(stage: str, params: dict, inputs: dict[str, str], outputs: dict[str, str],
                  started: float, cell: dict | None = None, seed: int | None = None,
                  stage_code: str | None = None, rule: str | None = None) -> None:
    """Write `<output>.prov.json` beside every output; `started` is a time.time() timestamp;
    `stage_code` is the hash of the code the stage ran (selfdistill.lineage.codehash); `rule` is the
    Snakemake rule that ran it (one stage serves several rules)."""
    ended = time.time()  # before hashing, which is the audit's cost, not the stage's
    shared = {"stage": stage, "rule": rule, "cell": dict(cell or {}), "params": params,
              "params_sha256": hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest(),
              "seed": _find_seed(params) if seed is None else seed,
              "inputs": {name: {"path": str(p), "sha256": hash_path(p)} for name, p in inputs.items()},
              "code": {**code_state(), "stage_sha256": stage_code}, "versions": versions(), "device": _device(),
              "host": socket.gethostname(), "started": _iso(started), "ended": _iso(ended),
              "command": list(sys.argv),
              # what the stage downloaded: the commit it resolved to and the digest of what arrived
              "fetched": [{**{k: v for k, v in f.items() if k != "path"}, "sha256": hash_path(f["path"])}
                          for f in noted()]}
    for path in outputs.values():
        if Path(path).is_dir():  # per-file hashes let the audit name the file that changed
            files = _file_hashes(Path(path))  # hashed once: checkpoints can be gigabytes
            record = {"artifact": str(path), "sha256": _combine(files), "files": files}
        else:
            record = {"artifact": str(path), "sha256": hash_path(path)}
        write_json(sidecar(path), {**record, **shared})  # write_json is temp file + os.replace


class Node(NamedTuple):
    depth: int
    path: str
    record: dict | None  # None: raw data, or an artifact whose record is missing
    consumer: str | None  # the artifact that read this one; None for the starting artifact


def walk(path, seen: set[str] | None = None, depth: int = 0, consumer: str | None = None) -> Iterator[Node]:
    """Depth first from `path` through the recorded inputs. Each path is yielded once, where it
    is first reached, so shared ancestors are not repeated; share `seen` across calls to walk
    several artifacts without repeats."""
    seen = set() if seen is None else seen
    path = os.path.normpath(path)
    if path in seen:
        return
    seen.add(path)
    record = read_record(path)
    yield Node(depth, path, record, consumer)
    for inp in (record or {}).get("inputs", {}).values():
        yield from walk(inp["path"], seen, depth + 1, path)


def _changed(path: str, record: dict) -> list[str]:
    """For a directory, name the inner files that differ: that says more than the folder hash."""
    before = record.get("files")
    if before is None or not os.path.isdir(path):
        return [f"{path}: changed after it was made"]
    now = _file_hashes(Path(path))
    named = ([f"{path}/{rel}: changed after it was made" for rel in sorted(before.keys() & now.keys())
              if before[rel] != now[rel]]
             + [f"{path}/{rel}: missing (was in {path} when it was made)" for rel in sorted(before.keys() - now.keys())]
             + [f"{path}/{rel}: added after {path} was made" for rel in sorted(now.keys() - before.keys())])
    return named or [f"{path}: changed after it was made"]  # the record's file list itself was edited


def check(node: Node, expected_params: Callable[[dict], dict | None] | None = None,
          hashes: dict[str, str] | None = None) -> list[str]:
    """Problems at one node of `walk`, each starting with the file it concerns. `hashes` caches
    current hashes across nodes, so a model read by many stages is hashed once."""
    hashes = {} if hashes is None else hashes

    def current(p: str) -> str:
        if p not in hashes:
            hashes[p] = hash_path(p)
        return hashes[p]

    path, record = node.path, node.record
    if not os.path.exists(path):
        return [f"{path}: missing" + (f" (input of {node.consumer})" if node.consumer else "")]
    if record is None:
        needs_record = RESULTS in Path(path).parts  # anything else is raw data, hashed by its consumer
        return [f"{path}: no provenance record (expected {sidecar(path)})"] if needs_record else []
    problems = _changed(path, record) if current(path) != record["sha256"] else []
    want = expected_params(record) if expected_params else None
    if want is not None and want != record["params"]:
        got = record["params"]
        keys = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
        problems.append(f"{path}: config no longer matches the params it was made with (differs in: {', '.join(keys)})")
    for name, inp in record["inputs"].items():
        p = os.path.normpath(inp["path"])
        if os.path.exists(p) and current(p) != inp["sha256"]:  # a missing input is its own node's problem
            problems.append(f"{p}: input changed since it was consumed by {path} (as {name!r})")
    return problems


def audit(path, expected_params: Callable[[dict], dict | None] | None = None) -> list[str]:
    """Every problem in the lineage of `path`, each naming its file; [] when all is intact.

    `expected_params(record)` returns the params the current config would give the job that made
    `record["artifact"]` (or None to skip that one); a difference is reported as a config mismatch.
    """
    hashes: dict[str, str] = {}
    return [problem for node in walk(path) for problem in check(node, expected_params, hashes)]


def lineage(path) -> list[dict]:
    """The records from `path` back to the raw inputs, depth first, each artifact once."""
    return [node.record for node in walk(path) if node.record is not None]
