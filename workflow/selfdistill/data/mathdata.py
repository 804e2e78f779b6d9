"""Loaders for the math world: verl "RL parquet" files and DAPO-Math-17k as problem dicts.

Every loader returns `[{"problem_id", "prompt", "answer"}]`, where `prompt` is the student prompt
(problem text + `templates.INSTRUCTION`), the form the study trains and evaluates on. The file
layout is described in ../shared/data/README.md; `fetch` turns a configured source (local path,
URL or `hf://datasets/...`) into a local file first.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from selfdistill.data.templates import INSTRUCTION, student_prompt
from selfdistill.lineage import downloads

_EVAL_URL = ("https://raw.githubusercontent.com/beanie00/self-distillation-analysis/"
             "5c51051aaa07513764ab66c631277816bc6520e5/data/math/evaluation/{}.parquet")
# Default sources, used only when the config names no local copy.
BENCHMARKS = {name: _EVAL_URL.format(name) for name in ("aime24", "aime25", "amc23", "math500")}
# Digests of those files at that commit (the byte copies in ../shared/data/math/evaluation/).
BENCHMARK_SHA256 = {
    "aime24": "6ef8f7d9e3566cdb820d12ed12dc8aa4fe328ce139fa3a1c4c0a4c452a70b789",
    "aime25": "fb078f2e9692ca459c43c98f012d0a4f4c652f98f265072b6327ece431fc59bc",
    "amc23": "6578106f9829e7dec492f4554935fb4a5c25c0b753287f8a2d5e931c7e9eeab7",
    "math500": "a9f68e1217dc0c0a058a2b531554f8737d4f880f63c011d684780f98a436a28f",
}

# DAPO's own answer format, which the authors' change_math_prompts.py replaces by the boxed one.
_DAPO_HEAD = re.compile(
    r"^Solve the following math problem step by step\.\s*The last line of your response should be"
    r" of the form Answer: \$Answer \(without quotes\) where \$Answer is the answer to the"
    r" problem\.\s*")
_DAPO_TAIL = re.compile(r'\s*Remember to put your answer on its own line after "Answer:"\.?\s*$')

_REQUIRED = ("data_source", "prompt", "reward_model", "extra_info")
_DEFAULT_CACHE = Path(os.environ.get("SELFDISTILL_CACHE", Path.home() / ".cache" / "selfdistill"))


def load_rl_parquet(path: str | Path) -> list[dict]:
    """Problems of an RL parquet file, one per row, in file order (repeated rows stay repeated)."""
    return [_problem(row, path, i, _user_content(row, path, i), _rl_problem_id(row, path, i))
            for i, row in enumerate(_rows(path))]


def load_dapo(path_or_url: str | Path, sha256: str | None = None,
              cache_dir: str | Path | None = None) -> list[dict]:
    """DAPO-Math-17k as upstream ships it, deduplicated and rewritten to the boxed instruction.

    Upstream repeats every problem about 100 times; the first row of each distinct prompt text is
    kept, in file order. Two DAPO ids that share one text therefore collapse into one problem.
    problem_id is the DAPO UUID (extra_info.index), as in the Section 6.2 subsets.
    """
    path = fetch(str(path_or_url), cache_dir, sha256)
    seen: set[str] = set()
    problems = []
    for i, row in enumerate(_rows(path)):
        prompt = dapo_to_boxed(_user_content(row, path, i))
        if prompt not in seen:
            seen.add(prompt)
            problems.append(_problem(row, path, i, prompt, _extra_index(row, path, i)))
    return problems


def dapo_to_boxed(content: str) -> str:
    """Replace DAPO's "Answer: $Answer" preamble and closing reminder by the boxed instruction."""
    if content.endswith(INSTRUCTION):
        return content
    return student_prompt(_DAPO_TAIL.sub("", _DAPO_HEAD.sub("", content)).strip())


def is_remote(source: str) -> bool:
    """Whether `fetch` downloads `source` (a URL or hf:// address) rather than reading a local file."""
    return source.startswith("hf://") or source.split("://", 1)[0] in ("http", "https", "file")


def fetch(source: str, cache_dir: str | Path | None, sha256: str | None) -> str:
    """A local path for `source`: a local file as is, a URL downloaded once into `cache_dir`,
    or `hf://datasets/<owner>/<name>[@revision]/<file>` through huggingface_hub's cache.
    `cache_dir` None is $SELFDISTILL_CACHE, else ~/.cache/selfdistill.

    With `sha256` given, the file's digest is checked (a download before it enters the cache).
    """
    cache_dir = str(cache_dir or _DEFAULT_CACHE)
    if source.startswith("hf://"):
        path = _fetch_hf(source, cache_dir)
        revision = source.removeprefix("hf://").split("/", 3)[2].partition("@")[2]
        downloads.note(source, bool(sha256) or downloads.is_commit(revision), path)
    elif is_remote(source):
        path = _download(source, Path(cache_dir), sha256)
        downloads.note(source, bool(sha256), path)
    else:
        path = source
        if not Path(path).is_file():
            raise FileNotFoundError(f"data source {source!r} is neither an existing file nor a "
                                    "http(s)://, file:// or hf://datasets/ URL")
    if sha256:
        _check_sha256(path, sha256, source)
    return str(path)


def _download(url: str, cache_dir: Path, sha256: str | None) -> Path:
    # The URL's hash in the name keeps two sources with the same file name apart.
    name = url.rstrip("/").rsplit("/", 1)[-1]
    target = cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with urllib.request.urlopen(url) as response, open(tmp, "wb") as f:
            while chunk := response.read(1 << 20):
                f.write(chunk)
        if sha256:  # checked before the rename, so a bad download never enters the cache
            _check_sha256(tmp, sha256, url)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _fetch_hf(source: str, cache_dir: str) -> str:
    parts = source.removeprefix("hf://").split("/", 3)
    if len(parts) != 4 or parts[0] != "datasets" or not parts[3]:
        raise ValueError(f"hf source {source!r}: expected "
                         "hf://datasets/<owner>/<name>[@revision]/<file>")
    from huggingface_hub import hf_hub_download  # only this source needs the hub client

    repo, _, revision = f"{parts[1]}/{parts[2]}".partition("@")
    return hf_hub_download(repo, parts[3], repo_type="dataset", revision=revision or None,
                           cache_dir=cache_dir)


def _check_sha256(path: str | Path, expected: str, source: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        raise ValueError(f"sha256 of {source!r} is {digest.hexdigest()}, expected {expected}")


def _rows(path: str | Path) -> Iterator[dict]:
    """Rows with JSON-string columns decoded, read in batches: the 1.8M-row DAPO file never
    sits in memory as Python objects all at once."""
    file = pq.ParquetFile(path)
    missing = [c for c in _REQUIRED if c not in file.schema_arrow.names]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; an RL parquet file has "
                         f"{list(_REQUIRED)} (it has {file.schema_arrow.names})")
    columns = [c for c in (*_REQUIRED, "problem_id") if c in file.schema_arrow.names]
    for batch in file.iter_batches(batch_size=65536, columns=columns):
        for row in batch.to_pylist():
            # Some files store the nested columns as JSON strings (see the data README).
            yield {k: json.loads(v) if k in _REQUIRED[1:] and isinstance(v, str) else v
                   for k, v in row.items()}


def _user_content(row: dict, path, i: int) -> str:
    messages = row["prompt"]
    if len(messages) != 1 or messages[0].get("role") != "user":
        roles = [m.get("role") for m in messages]
        raise ValueError(f"{path} row {i}: prompt has roles {roles}; expected one 'user' message")
    return messages[0]["content"]


def _rl_problem_id(row: dict, path, i: int) -> str:
    if row.get("problem_id"):
        return str(row["problem_id"])
    return f"{row['data_source']}:{_extra_index(row, path, i)}"


def _extra_index(row: dict, path, i: int) -> str:
    index = (row["extra_info"] or {}).get("index")
    if index is None:
        raise ValueError(f"{path} row {i}: extra_info {row['extra_info']!r} has no 'index' to name "
                         "the problem by")
    return str(index)


def _problem(row: dict, path, i: int, content: str, problem_id: str) -> dict:
    answer = str(row["reward_model"].get("ground_truth") or "")
    if not answer.strip():
        raise ValueError(f"{path} row {i}: reward_model {row['reward_model']!r} "
                         "has no ground_truth")
    prompt = content if content.endswith(INSTRUCTION) else student_prompt(content.strip())
    return {"problem_id": problem_id, "prompt": prompt, "answer": answer}
