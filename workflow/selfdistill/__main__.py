"""The selfdistill command: one entry point for the tools that look after a run's results.

    selfdistill check [--rebuild] [SNAKEMAKE ARGS]   # missing or changed artifacts, and their rebuild
    selfdistill audit [--all] PATH ...               # an artifact's lineage against its records
    selfdistill share track|push|pull|restore ...    # results through DVC

`python -m selfdistill <command>` and `python -m selfdistill.lineage.<module>` do the same.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {"check": "selfdistill.lineage.recover", "audit": "selfdistill.lineage.audit", "share": "selfdistill.lineage.share"}


def dispatch(doc: str, commands: dict, argv: list[str] | None) -> int:
    """Runs `commands[argv[0]](argv[1:])`; prints `doc` and returns 0 for -h or --help, or with
    the commands and returns 2 for anything else."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(doc)
        return 0
    if not argv or argv[0] not in commands:
        got = f"got {argv[0]!r}" if argv else "got none"
        print(f"{doc}\nexpected a command, one of {', '.join(commands)}; {got}", file=sys.stderr)
        return 2
    return commands[argv[0]](argv[1:])


def main(argv: list[str] | None = None) -> int:
    return dispatch(__doc__, {name: lambda args, m=module: importlib.import_module(m).main(args)
                              for name, module in COMMANDS.items()}, argv)


if __name__ == "__main__":
    raise SystemExit(main())
