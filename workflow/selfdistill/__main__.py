"""The selfdistill command: one entry point for the tools that look after a run's results.

    selfdistill check [--rebuild] [SNAKEMAKE ARGS]   # missing or changed artifacts, and their rebuild
    selfdistill audit [--all] PATH ...               # an artifact's lineage against its records
    selfdistill share track|push|pull|restore ...    # results through DVC

`python -m selfdistill <command>` and `python -m selfdistill.<module>` do the same.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {"check": "selfdistill.recover", "audit": "selfdistill.audit", "share": "selfdistill.share"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        got = f"got {argv[0]!r}" if argv else "got none"
        print(f"{__doc__}\nexpected a command, one of {', '.join(COMMANDS)}; {got}", file=sys.stderr)
        return 2
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
