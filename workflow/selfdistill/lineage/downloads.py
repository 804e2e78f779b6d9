"""What a stage fetched from outside the repository (a hub model, a data file), for its record.

An input named without a commit (`revision`) or digest (`sha256`) can change under the same
name. Each fetch is noted here; the provenance record of the stage's outputs keeps, per fetch,
the commit the hub resolved (read from its cache path) and the sha256 of what arrived, and the
audit lists the unpinned ones as warnings.
"""
from __future__ import annotations

import re

_SNAPSHOT = re.compile(r"[/\\]snapshots[/\\]([0-9a-f]{40})(?=[/\\]|$)")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_NOTED: list[dict] = []


def hub_commit(path) -> str | None:
    """The commit of a file or folder in the Hugging Face cache (…/snapshots/<commit>/…)."""
    m = _SNAPSHOT.search(str(path))
    return m.group(1) if m else None


def is_commit(revision: str | None) -> bool:
    return bool(revision and _COMMIT.match(revision))


def note(source: str, pinned: bool, path) -> None:
    """`source` (as the config names it) arrived at `path`; `pinned` when the config fixes its
    content (a commit or a digest)."""
    _NOTED.append({"source": source, "pinned": pinned, "commit": hub_commit(path), "path": str(path)})


def noted() -> list[dict]:
    return list(_NOTED)


def unpinned(records: list[dict]) -> list[str]:
    """A warning per unpinned fetch in `records` (provenance records), each input once."""
    out = {}
    for record in records:
        for f in record.get("fetched", []):
            if not f["pinned"]:
                commit = f"commit {f['commit']}, " if f["commit"] else ""
                out[f["source"]] = (f"{f['source']}: not pinned ({commit}sha256 {f['sha256'][:12]} when "
                                    f"{record['artifact']} was made); pin it as docs/paper-grid.md says")
    return list(out.values())
