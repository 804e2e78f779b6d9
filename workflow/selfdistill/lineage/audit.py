"""Audit artifacts against their provenance records.

    selfdistill audit results/summary/base0/base_model.json
    selfdistill audit --all results/

Run from the workflow root: recorded paths are relative to it. Prints each lineage as an indented
tree, then every problem, then as warnings every input fetched without a commit or digest (it
may change under the same name); exits 1 if there is any problem, else 0. Each artifact is
shown once, under the first artifact that reached it. Checking params against the current config needs the rules'
settings, so it is left to `provenance.audit(path, expected_params)`.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from selfdistill.lineage.downloads import unpinned
from selfdistill.lineage.provenance import SUFFIX, Node, check, read_record, walk


def _describe(node: Node, problems: list[str]) -> str:
    status = "OK" if not problems else f"{len(problems)} problem(s)"
    record = node.record
    if record is None:
        return f"{'  ' * node.depth}{node.path}  [raw input]  {status}"
    code = record["code"]
    commit = (code["git_commit"] or "no-git")[:10] + ("+dirty" if code["git_dirty"] else "")
    cell = ",".join(f"{k}={v}" for k, v in record["cell"].items()) or "-"
    return (f"{'  ' * node.depth}{node.path}  [{record['stage']}] cell={cell} "
            f"params={record['params_sha256'][:12]} seed={record['seed']} git={commit} "
            f"sha256={record['sha256'][:12]}  {status}")


def _artifacts_under(folder: str) -> list[str]:
    if not Path(folder).is_dir():
        raise SystemExit(f"--all expects a folder holding *{SUFFIX} records, got {folder!r}")
    found = [str(p)[:-len(SUFFIX)] for p in sorted(Path(folder).rglob("*" + SUFFIX))]
    consumed = {os.path.normpath(inp["path"])
                for path in found for inp in (read_record(path) or {}).get("inputs", {}).values()}
    # final products first, so their trees show the whole lineage rather than a fragment
    return sorted(found, key=lambda path: os.path.normpath(path) in consumed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", metavar="PATH", help="artifacts to audit (folders with --all)")
    ap.add_argument("--all", action="store_true", help=f"audit every artifact with a *{SUFFIX} under the folders")
    args = ap.parse_args(argv)
    roots = [path for folder in args.paths for path in _artifacts_under(folder)] if args.all else args.paths
    if not roots:
        print(f"no *{SUFFIX} records under {', '.join(args.paths)}")
        return 1

    seen: set[str] = set()
    hashes: dict[str, str] = {}
    problems: list[str] = []
    records: list[dict] = []
    for root in roots:
        for node in walk(root, seen):
            found = check(node, hashes=hashes)
            print(_describe(node, found))
            problems += found
            records += [node.record] if node.record else []
    warnings = unpinned(records)  # reproducible only while the hub serves the same content
    print(f"\n{len(seen)} file(s) audited, {len(problems)} problem(s), {len(warnings)} unpinned input(s)")
    for problem in problems:
        print(f"  {problem}")
    for warning in warnings:
        print(f"  warning: {warning}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
