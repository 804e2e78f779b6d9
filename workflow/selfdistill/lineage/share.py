"""Share pipeline results through DVC, and restore them so that Snakemake reruns nothing.

    selfdistill share track [DVC ADD ARGS]     # dvc add each entry of results/, and logs/
    selfdistill share push [DVC PUSH ARGS]     # the same as dvc push
    selfdistill share pull [DVC PULL ARGS]     # the same as dvc pull
    selfdistill share restore [SNAKEMAKE ARGS] # after a pull: verify, then date for Snakemake

Run from the workflow root, where results/ is. Snakemake stays the only orchestrator: DVC only
stores and moves bytes, one `results/<entry>.dvc` pointer per stage folder (plus `logs.dvc`).
`track` and `restore` refuse to go on while any artifact differs from its provenance record.
`restore` passes its arguments to snakemake (give the config the results were made with).
track, push and pull need DVC, the `share` extra (`pip install -e ".[share]"`); restore does not.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from importlib.util import find_spec
from itertools import takewhile
from pathlib import Path

from selfdistill.lineage.codehash import code_hash
from selfdistill.lineage.provenance import RESULTS, SUFFIX, Node, check, read_record

LOGS = "logs"
NOT_TRACKED = (".gitignore", ".gitkeep")  # git's own files in results/
SHELL = "Shell command: "  # how `snakemake -n -p` prints a job's command
STAGE = "python -m selfdistill.stages."
NO_UPDATE = "no update"  # the plan column of `snakemake --summary` for a job that would not run


def _tool(name: str, args: list[str], capture: bool = False) -> subprocess.CompletedProcess:
    # the interpreter running this module, so dvc and snakemake come from the same environment
    return subprocess.run([sys.executable, "-m", name, *args], text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)


def _need_dvc(command: str) -> None:
    if find_spec("dvc") is None:
        raise SystemExit(f"selfdistill share {command} needs DVC, which is not installed in this environment "
                         f"({sys.executable}): pip install -e \".[share]\"")


def _dvc(command: str, args: list[str]) -> int:
    """`dvc <command> ARGS`, for `selfdistill share <command>`."""
    _need_dvc(command)
    return _tool("dvc", [command, *args]).returncode


def _snakemake(args: list[str]) -> subprocess.CompletedProcess:
    # rules size their threads by --cores; a later --cores among the user's arguments wins
    return _tool("snakemake", ["--cores", "1", *args], capture=True)


def _refuse(action: str, problems: list[str], advice: str) -> int:
    print(f"refusing to {action}: {len(problems)} problem(s)", *(f"  {p}" for p in problems), advice,
          sep="\n", file=sys.stderr)
    return 1


def _targets() -> list[str]:
    results = Path(RESULTS)
    entries = sorted(p.as_posix() for p in results.iterdir()
                     if p.name not in NOT_TRACKED and p.suffix != ".dvc") if results.is_dir() else []
    if not entries:
        raise SystemExit(f"nothing to track: {RESULTS}/ holds no outputs here ({os.getcwd()}); "
                         "run snakemake first, from the workflow root")
    return entries + ([LOGS] if Path(LOGS).is_dir() else [])


def problems_by_artifact(plan: dict[str, dict | None]) -> dict[str, list[str]]:
    """Provenance problems of each artifact in `plan` ({path: the settings the current config
    gives it, or None to skip that comparison}): bytes, consumed inputs, settings, stage code.
    Only artifacts with a problem are keys."""
    hashes: dict[str, str] = {}
    found = {}
    for path, settings in plan.items():
        node = Node(0, path, read_record(path), None)
        problems = check(node, None if settings is None else (lambda record, s=settings: s), hashes)
        if node.record is not None and settings is not None and os.path.exists(path):
            problems += _code_problems(path, node.record)
        if problems:
            found[path] = problems
    return found


def _problems(plan: dict[str, dict | None]) -> list[str]:
    return [problem for problems in problems_by_artifact(plan).values() for problem in problems]


def _code_problems(path: str, record: dict) -> list[str]:
    try:
        now = code_hash(record["stage"])
    except ValueError as err:
        return [f"{path}: cannot tell which code made it: {err}"]
    made = record["code"].get("stage_sha256")
    if made == now:
        return []
    return [f"{path}: made by other code than this checkout's {record['stage']} "
            f"(recorded {(made or 'no hash')[:12]}, now {now[:12]})"]


def jobs(args: list[str]) -> list[tuple[dict, list[str]]]:
    """(settings, output paths) of every stage job Snakemake would run with `args`, read from
    the commands a forced dry run prints."""
    run = _snakemake(["--forceall", "--dry-run", "--printshellcmds", *args])
    if run.returncode:
        raise SystemExit(f"snakemake could not plan the workflow with arguments {args}:\n{run.stdout[-4000:]}")
    found = []
    for line in run.stdout.splitlines():
        if line.startswith(SHELL) and STAGE in line:
            tokens = shlex.split(line[len(SHELL):])
            settings = json.loads(tokens[tokens.index("--params") + 1])
            outs = takewhile(lambda t: "=" in t and not t.startswith("-"), tokens[tokens.index("--out") + 1:])
            found.append((settings, [os.path.normpath(t.partition("=")[2]) for t in outs]))
    if not found:
        raise SystemExit(f"no '{SHELL}{STAGE}...' lines in the dry run with arguments {args}; "
                         f"no artifact to check:\n{run.stdout[-4000:]}")
    return found


def pending(summary: str) -> list[str]:
    """The outputs that `snakemake --summary` (its tab-separated table) plans to make."""
    rows = [line.split("\t") for line in summary.splitlines() if "\t" in line]
    if not rows or rows[0][0] != "output_file" or "plan" not in rows[0]:
        raise ValueError(f"not a snakemake --summary table: {summary[:200]!r}")
    plan = rows[0].index("plan")
    return [row[0] for row in rows[1:] if row[plan] != NO_UPDATE]


def _plan(args: list[str]) -> dict[str, dict]:
    """{output path: settings} for every stage job Snakemake would run with `args`."""
    return {path: settings for settings, outputs in jobs(args) for path in outputs}


def track(args: list[str]) -> int:
    _need_dvc("track")
    targets = _targets()
    records = sorted(str(p)[:-len(SUFFIX)] for p in Path(RESULTS).rglob("*" + SUFFIX))
    problems = _problems(dict.fromkeys(records))
    if problems:
        return _refuse("track", problems, "Rerun snakemake to remake them, or remove them, then track again.")
    added = _tool("dvc", ["add", *args, *targets]).returncode
    # dvc add links a single file to the cache but leaves a folder's files as copies beside it
    return added or _tool("dvc", ["checkout", "--relink", *(f"{t}.dvc" for t in targets)]).returncode


def restore(args: list[str]) -> int:
    """Verify the pulled artifacts against their provenance and against what this checkout and
    config would make, touch every job's outputs in DAG order (so Snakemake records its metadata
    and dates follow the DAG), then check that a dry run has nothing to do."""
    plan = _plan(args)
    problems = _problems(plan)
    if problems:
        return _refuse("restore", problems, (
            "Nothing was touched. A missing or changed file: `dvc pull` or `dvc checkout --force` "
            "brings back the shared bytes. Other settings or code: pass the config the results "
            "were made with, check out the commit in their .prov.json, or let snakemake remake them."))
    touch = _snakemake(["--touch", "--forceall", *args])
    if touch.returncode:
        print(touch.stdout[-4000:], "\nrestore did not finish: snakemake --touch (above) failed", file=sys.stderr)
        return 1
    # the summary's table, not the dry run's screen text, says whether any job would still run
    summary = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--summary", *args],
                             capture_output=True, text=True)
    if summary.returncode:
        print(summary.stderr[-4000:], "\nrestore did not finish: snakemake --summary (above) failed", file=sys.stderr)
        return 1
    left = pending(summary.stdout)
    if left:
        print(f"restore did not finish: snakemake still plans to make {len(left)} output(s):",
              *(f"  {path}" for path in left), sep="\n", file=sys.stderr)
        return 1
    print(f"restored {len(plan)} artifact(s): each matches its provenance record and this config; "
          "snakemake: nothing to be done")
    return 0


COMMANDS = {"track": track, "restore": restore,
            "push": lambda args: _dvc("push", args),
            "pull": lambda args: _dvc("pull", args)}


def main(argv: list[str] | None = None) -> int:
    from selfdistill.__main__ import dispatch

    return dispatch(__doc__, COMMANDS, argv)


if __name__ == "__main__":
    raise SystemExit(main())
