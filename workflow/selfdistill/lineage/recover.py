"""Find every artifact of a run that is missing or differs from its provenance record, and the
Snakemake command that rebuilds those and everything made from them.

    selfdistill check [--rebuild] [SNAKEMAKE ARGS]
    selfdistill check [--rebuild] [SNAKEMAKE ARGS]

Snakemake, by design, does not remake an intermediate output that is missing while the outputs
made from it exist: after a deleted file, or a failed job that removed its output, a plain run
can have nothing to do. Run from the workflow root with the snakemake arguments of the run
(config files, profile, targets). Exits 0 when nothing is missing or changed (or the rebuild
succeeded), 1 otherwise.
"""
from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from selfdistill.config import ConfigError, read_config_file
from selfdistill.lineage.share import jobs, problems_by_artifact

LOCKS = Path(".snakemake/locks")
# the cores a rebuild runs on unless the arguments name others (a later --cores wins)
CORES = ["--cores", "all"]


def config_files(args: list[str]) -> list[str]:
    """The files given to --configfile / --configfiles in snakemake arguments."""
    found, taking = [], False
    for arg in args:
        if arg.startswith("-"):
            name, _, value = arg.partition("=")
            taking = name in ("--configfile", "--configfiles")
            found += [value] if taking and value else []
        elif taking:
            found.append(arg)
    return found


def damaged(args: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """({artifact: its problems}, one output of each job that made a damaged artifact) over every
    job Snakemake would run with `args`."""
    planned = jobs(args)
    found = problems_by_artifact({path: settings for settings, outputs in planned for path in outputs})
    return found, [outputs[0] for _, outputs in planned if any(path in found for path in outputs)]


def rebuild_command(args: list[str], outputs: list[str]) -> list[str]:
    """Forcing the jobs that make `outputs` reruns them and every job downstream of them."""
    return ["snakemake", *CORES, *args, "--rerun-incomplete", "--forcerun", *outputs]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    rebuild = "--rebuild" in argv
    args = [a for a in argv if a != "--rebuild"]
    try:  # Snakemake's message for a file it cannot read names neither the file nor the line
        for path in config_files(args):
            read_config_file(path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    found, outputs = damaged(args)
    if not found:
        print("every artifact exists and matches its provenance record; nothing to rebuild")
        return 0
    print(f"{len(found)} artifact(s) missing or changed:")
    for problems in found.values():
        print(*(f"  {p}" for p in problems), sep="\n")
    command = rebuild_command(args, outputs)
    print(f"\nrebuild them and everything made from them ({len(outputs)} job(s) forced):\n  {shlex.join(command)}")
    if LOCKS.is_dir() and any(LOCKS.iterdir()):
        print("\na Snakemake lock is held here; if no snakemake is running, release it first: snakemake --unlock")
    if not rebuild:
        print("\n(run again with --rebuild to run it)")
        return 1
    sys.stdout.flush()
    return subprocess.run([sys.executable, "-m", *command]).returncode


if __name__ == "__main__":
    raise SystemExit(main())
