"""The code a stage runs, as one hash of what the code does rather than how it is written.

The rules record this hash as a param (workflow/rules/common.smk), so a change to a stage's code
reruns that stage and its dependents; Snakemake's own code trigger sees only a shell line.

A stage is `python -m selfdistill.stages.<name>`. Its hash covers the definitions (functions,
classes, module-level names) that the stage's `if __name__ == "__main__":` block reaches, followed
through every module of the package, each definition as its syntax tree:

- comments, docstrings, formatting and line numbers are not in that tree, so they change nothing;
- import statements only say which definition a name means. A use of a package definition is
  written as that definition's own name, however it was imported (`from selfdistill.io import
  read_json`, `io.read_json`, an alias), so moving a function to another module changes nothing;
- a definition counts by its content, never by its file: the hash is over the set of reached
  definitions and which uses which, so a changed function changes the hash of the stages that
  reach it, and only of those; an unused function changes nothing;
- a name imported from outside the package counts with what it names (`np=numpy`).

How: `_parse` reads every module into its definitions and the names it imports; `_Normalize`
rewrites one definition as above and notes the definitions it uses; `_reached` follows those uses
from the stage's `__main__` block; `code_hash` hashes what it reached.

Statements a module runs on import that bind no name (`matplotlib.use("Agg")`) count for every
stage that uses a definition of that module; a name imported from the package that no statement
defines (one made at run time) counts as the whole module it comes from. A definition reached only
through a computed name (`getattr`, `importlib` with a string; the stages use neither) is not
seen, nor is a module docstring a stage shows as `--help`. Python's syntax tree differs across Python versions, so a
new Python changes every hash once.
"""
from __future__ import annotations

import ast
import copy
import functools
import hashlib
import importlib.util
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "selfdistill"
MAIN = "<main>"  # a module's `if __name__ == "__main__":` block: what `python -m` runs
ON_IMPORT = "<on import>"  # a module's statements that run on import and bind no name
MAIN_TEST = '__name__ == "__main__"'
DEFINES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def package_dir() -> Path:
    # the copy `python -m selfdistill...` imports in this environment (PYTHONPATH included),
    # so the hash describes the code the jobs will run
    return Path(importlib.util.find_spec(PACKAGE).submodule_search_locations[0])


@dataclass
class Module:
    """One module of the package, as `_parse` reads it."""

    name: str
    is_package: bool
    names: dict[str, str] = field(default_factory=dict)  # name in the module -> qualified name it means
    defs: dict[str, list[ast.stmt]] = field(default_factory=lambda: defaultdict(list))  # name -> statements
    stars: list[str] = field(default_factory=list)  # modules it imports `*` from
    normal: dict[str, tuple[str, set]] = field(default_factory=dict)  # name -> (content hash, uses), once


def _inside(qualified: str) -> bool:
    return qualified == PACKAGE or qualified.startswith(PACKAGE + ".")


def _bindings(stmt: ast.Import | ast.ImportFrom, module: Module) -> list[tuple[str, str]]:
    """(bound name, qualified name) of each name an import statement binds, relative imports
    resolved; one pair per imported name, in order."""
    if isinstance(stmt, ast.Import):  # `import a.b` binds `a`; `import a.b as c` binds the module a.b
        return [(a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0])
                for a in stmt.names]
    base = stmt.module or ""
    if stmt.level:
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        base = ".".join(filter(None, (package.rsplit(".", stmt.level - 1)[0], stmt.module)))
    return [(a.asname or a.name, f"{base}.{a.name}") for a in stmt.names]


def _bound(stmt: ast.stmt) -> list[str]:
    """The module-level names a statement defines. An `if` or `try` that defines names is one
    definition under each of them."""
    if isinstance(stmt, DEFINES):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    else:
        targets = [stmt]
    nodes = [node for target in targets for node in ast.walk(target)]
    names = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return sorted(names | {n.name for n in nodes if isinstance(n, DEFINES)})


def _is_main_block(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.If)
            and ast.dump(stmt.test) == ast.dump(ast.parse(MAIN_TEST, mode="eval").body))


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    is_doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
              and isinstance(first.value.value, str))
    return body[1:] if is_doc else body


@functools.lru_cache(maxsize=8)
def _parse(sources: tuple[tuple[str, bytes], ...]) -> dict[str, Module]:
    """Every module of the package from its (path relative to the package, source) pairs."""
    modules = {}
    for relative, source in sources:
        parts = Path(relative).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = Module(".".join((PACKAGE, *(parts[:-1] if is_package else parts))), is_package)
        for stmt in _without_docstring(ast.parse(source, filename=relative).body):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                bindings = _bindings(stmt, module)
                module.names.update(b for b in bindings if b[0] != "*")
                module.stars += [q.rpartition(".")[0] for name, q in bindings if name == "*"]
                continue
            main = _is_main_block(stmt)
            bound = [] if main else _bound(stmt)
            module.names.update({name: f"{module.name}.{name}" for name in bound})
            for name in bound or [MAIN if main else ON_IMPORT]:
                module.defs[name].append(stmt)
        modules[module.name] = module
    return modules


def _definition(modules: dict[str, Module], qualified: str, hops: int = 0) -> tuple[str, str] | str | None:
    """What a dotted name means exactly: (module, name) of a package definition, following
    re-exports; the name of a package module; or None (something else, or an attribute of one)."""
    if qualified in modules:
        return qualified
    owner, _, name = qualified.rpartition(".")
    module = modules.get(owner)
    if module is None or hops > len(modules):
        return None
    if name in module.defs:
        return owner, name
    if name in module.names:
        return _definition(modules, module.names[name], hops + 1)
    found = (_definition(modules, f"{source}.{name}", hops + 1) for source in module.stars)
    return next((f for f in found if f is not None), None)


class _Normalize(ast.NodeTransformer):
    """Rewrites one definition as what it does: no docstrings, no imports from the package, each
    use of a package definition as that definition's name. Collects what the definition uses."""

    def __init__(self, modules: dict[str, Module], module: Module, stmts: list[ast.stmt]):
        self.modules, self.module, self.names = modules, module, dict(module.names)
        for node in (n for s in stmts for n in ast.walk(s) if isinstance(n, (ast.Import, ast.ImportFrom))):
            self.names.update(_bindings(node, module))  # imports inside functions
        self.uses: set[tuple[str, str]] = set()
        self.outside: set[str] = set()

    def visit_Import(self, node):
        node.names = [a for a, (_, q) in zip(node.names, _bindings(node, self.module)) if not _inside(q)]
        return node if node.names else None

    visit_ImportFrom = visit_Import

    def _docless(self, node):
        node.body = _without_docstring(node.body)
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _docless

    def _reference(self, node):
        parts, end = [], node
        while isinstance(end, ast.Attribute):
            parts.insert(0, end.attr)
            end = end.value
        if not (isinstance(end, ast.Name) and isinstance(node.ctx, ast.Load) and end.id in self.names):
            return self.generic_visit(node)  # a local, a builtin, or an expression's attribute
        qualified = ".".join([self.names[end.id], *parts])
        if not _inside(qualified):
            self.outside.add(f"{end.id}={self.names[end.id]}")
            return node
        found = _definition(self.modules, qualified)
        if isinstance(found, tuple):
            self.uses.add(found)
            return ast.Name(id=found[1], ctx=ast.Load())
        if parts and found is None:
            return self.generic_visit(node)  # `module.Class.attribute`: the inner part names the class
        # a module used as a value, or a name from the package that names no definition seen (one
        # made at run time): all of the module
        owner = found or max((m for m in self.modules if qualified.startswith(m + ".")), key=len, default=None)
        if owner:
            self.uses.update((owner, name) for name in self.modules[owner].defs if name != MAIN)
        return node

    visit_Name = visit_Attribute = _reference


def _normalized(modules: dict[str, Module], module: Module, name: str) -> tuple[str, set[tuple[str, str]]]:
    """(content hash, the package definitions it uses) of one definition."""
    if name not in module.normal:
        normal = _Normalize(modules, module, module.defs[name])
        tree = [normal.visit(copy.deepcopy(stmt)) for stmt in module.defs[name]]
        text = "\n".join([*(ast.dump(stmt) for stmt in tree if stmt is not None), *sorted(normal.outside)])
        module.normal[name] = hashlib.sha256(text.encode()).hexdigest(), normal.uses
    return module.normal[name]


def _reached(modules: dict[str, Module], roots: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, set]]:
    """{(module, name): (content hash, what it uses)} of every definition `roots` reach."""
    found, todo = {}, list(roots)
    while todo:
        key = todo.pop()
        if key in found or key[0] not in modules or key[1] not in modules[key[0]].defs:
            continue
        found[key] = _normalized(modules, modules[key[0]], key[1])
        parts = key[0].split(".")  # importing a module first runs its packages' and its own ON_IMPORT
        todo += [*found[key][1], *((".".join(parts[:i]), ON_IMPORT) for i in range(1, len(parts) + 1))]
    return found


def code_hash(module: str, root: Path | None = None) -> str:
    """sha256 of what `python -m <module>` runs (a module of the package in `root`, by default the
    installed one): the set of reached definitions, each with the definitions it uses."""
    root = root or package_dir()
    modules = _parse(tuple((p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*.py"))))
    if module not in modules or module == PACKAGE:
        stages = sorted(m for m in modules if m.startswith(f"{PACKAGE}.stages.") and m != f"{PACKAGE}.stages.cli")
        raise ValueError(f"{module!r} is not a module under {root}; stage modules are " + ", ".join(stages))
    defs = modules[module].defs
    roots = [(module, MAIN)] if MAIN in defs else [(module, name) for name in defs]
    found = _reached(modules, roots)
    entries = {f"{digest} uses {' '.join(sorted(found[u][0] for u in uses if u in found))}"
               for digest, uses in found.values()}
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()
