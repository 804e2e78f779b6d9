"""The code a stage runs, as one hash: its module plus every selfdistill module it imports,
followed statically and transitively (package `__init__` files included, since importing a
submodule runs them).

The rules record this hash as a param, so an edit to a stage's code reruns that stage and its
dependents and nothing else; Snakemake's own code trigger sees only a shell rule's command line.
Files are read as bytes, so an added comment counts as a change: the hash cannot tell comments
from code, and rerunning too much is the safe side.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
from pathlib import Path

PACKAGE = "selfdistill"


def package_dir() -> Path:
    # the copy `python -m selfdistill...` imports in this environment (PYTHONPATH included),
    # so the hash describes the code the jobs will run
    return Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0])


def _source(module: str, root: Path) -> Path | None:
    """The file of a selfdistill module, or None where `module` names something else (a class
    imported from a module, a module that does not exist)."""
    parts = module.split(".")[1:]
    package = root.joinpath(*parts, "__init__.py")
    if package.is_file():
        return package
    plain = root.joinpath(*parts[:-1], parts[-1] + ".py") if parts else None
    return plain if plain is not None and plain.is_file() else None


def _imported(module: str, path: Path) -> set[str]:
    """Every selfdistill module name `path` may import: a name in `from a import b` may be the
    submodule a.b, so it is offered too and dropped later if no file has that name."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):  # function-local imports too
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            base = ".".join(filter(None, (base, node.module)))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for name in names:
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))  # parents run first
    return found


def module_files(module: str) -> list[Path]:
    """The files of `module` and of the selfdistill modules it imports, transitively."""
    root = package_dir()
    start = _source(module, root)
    if not module.startswith(PACKAGE + ".") or start is None:
        stages = sorted(p.stem for p in (root / "stages").glob("*.py") if p.stem not in ("__init__", "cli"))
        raise ValueError(f"{module!r} is not a module under {root}; stage modules are "
                         + ", ".join(f"{PACKAGE}.stages.{s}" for s in stages))
    todo, files = [module], {}
    while todo:
        name = todo.pop()
        path = _source(name, root)
        if path is None or path in files.values():
            continue
        files[name] = path
        todo.extend(_imported(name, path) - files.keys())
    return sorted(files.values())


def code_hash(module: str) -> str:
    """sha256 over the (path relative to the package, content) of `module_files(module)`; relative
    paths make a copy of the code elsewhere hash the same."""
    root = package_dir()
    h = hashlib.sha256()
    for path in module_files(module):
        h.update(f"{path.relative_to(root).as_posix()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()
