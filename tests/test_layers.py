"""Layers that import only downwards: every import in autograder/ and course/ (at module level and inside
functions) goes to its own layer or a lower one. Lowest first:

course.errors, course.loading (the foundation, allowed everywhere) < autograder.core (pure) < the learning side
(course.*, which may import only autograder.core) < autograder.static < autograder.adapters (with the re-exporting
names autograder.cells, .preprocessors, .exchange) < autograder.orchestration < autograder.instructor and
autograder.authoring < the application (autograder.cli, autograder.demo, the nbgrader config templates).

Also: the pure core imports nothing that touches notebooks, processes or databases, and only
autograder/adapters/gradebook.py imports nbgrader's gradebook API.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from conftest import ROOT

LAYERS = [  # (layer, its rank, module prefixes): the longest matching prefix decides
    ("foundation", 0, ("course.errors", "course.loading")),
    ("core", 1, ("autograder.core",)),
    ("learning side", 2, ("course",)),
    ("static", 3, ("autograder.static",)),
    ("adapters", 4, ("autograder.adapters", "autograder.cells", "autograder.preprocessors", "autograder.exchange")),
    ("orchestration", 5, ("autograder.orchestration",)),
    ("instructor", 6, ("autograder.instructor",)),
    ("authoring", 6, ("autograder.authoring",)),
    ("application", 7, ("autograder.cli", "autograder.demo", "autograder.templates")),
]
# Package inits that only name a namespace: importing a submodule imports them too, from every layer.
NAMESPACES = {"autograder", "course"}
CORE_MUST_NOT_IMPORT = ("nbgrader", "nbformat", "nbclient", "nbconvert", "sqlalchemy", "subprocess", "ipywidgets")
GRADEBOOK_API = "nbgrader.api"
GRADEBOOK_MODULE = "autograder.adapters.gradebook"


class Import(NamedTuple):
    module: str  # the importing module
    line: int
    target: str  # the imported module (for `from a import b`: a.b if that is a module of ours, else a)


def layer(module: str) -> tuple[str, int] | None:
    """The layer of one of our modules (None: not ours, or a bare namespace package)."""
    if module in NAMESPACES:
        return None
    best = max(((len(p), name, rank) for name, rank, prefixes in LAYERS for p in prefixes
                if module == p or module.startswith(p + ".")), default=None)
    return (best[1], best[2]) if best else None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, known: set[str]) -> list[Import]:
    """Every import statement in a file, wherever it is (module level, functions, TYPE_CHECKING blocks)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.append(Import(module, node.lineno, candidate if candidate in known else base))
    return found


def upward(found: Iterable[Import]) -> list[str]:
    """Every import of a higher layer, as a line a person can act on."""
    problems = []
    for imp in found:
        source, target = layer(imp.module), layer(imp.target)
        if source and target and target[1] > source[1]:
            problems.append(f"{imp.module}:{imp.line} ({source[0]}) imports {imp.target} ({target[0]}, a higher "
                            "layer)")
    return problems


def our_files() -> list[Path]:
    return sorted(p for folder in ("autograder", "course") for p in (ROOT / folder).rglob("*.py")
                  if ".ipynb_checkpoints" not in p.parts)


def all_imports() -> list[Import]:
    files = our_files()
    known = {module_name(p) for p in files}
    return [imp for path in files for imp in imports(path, known)]


def test_every_module_has_a_layer():
    names = [module_name(p) for p in our_files()]
    missing = [name for name in names if name not in NAMESPACES and layer(name) is None]
    assert not missing, f"modules with no layer (add them to LAYERS in tests/test_layers.py): {missing}"


def test_no_import_goes_upward():
    problems = upward(all_imports())
    assert not problems, "imports of a higher layer:\n" + "\n".join(problems)


def test_the_core_touches_no_notebook_process_or_database():
    problems = [f"{imp.module}:{imp.line} imports {imp.target}" for imp in all_imports()
                if imp.module.startswith("autograder.core") and imp.target.split(".")[0] in CORE_MUST_NOT_IMPORT]
    assert not problems, "the pure core must stay pure:\n" + "\n".join(problems)


def test_static_grading_does_not_import_nbgrader():
    problems = [f"{imp.module}:{imp.line} imports {imp.target}" for imp in all_imports()
                if imp.module.startswith("autograder.static") and imp.target.split(".")[0] == "nbgrader"]
    assert not problems, "\n".join(problems)


def test_only_the_gradebook_adapter_opens_the_gradebook():
    problems = [f"{imp.module}:{imp.line} imports {imp.target}" for imp in all_imports()
                if imp.target == GRADEBOOK_API and imp.module != GRADEBOOK_MODULE]
    assert not problems, f"every read and write of the gradebook belongs in {GRADEBOOK_MODULE}:\n" + "\n".join(problems)


# -- the checker itself can fail ------------------------------------------------------------------------------------
def test_the_checker_reports_every_upward_import():
    fake = [Import("autograder.core.scoring", 3, "autograder.adapters.gradebook"),  # core -> adapters: up
            Import("course.parts", 9, "autograder.static.answers"),  # learning side -> static: up
            Import("autograder.static.answers", 4, "course.errors"),  # down to the foundation: fine
            Import("autograder.instructor.cohort", 5, "autograder.authoring.build"),  # same rank: fine
            Import("autograder.cli", 7, "autograder.orchestration.compare"),  # down: fine
            Import("autograder.core.literals", 2, "json")]  # not ours: fine
    assert upward(fake) == [
        "autograder.core.scoring:3 (core) imports autograder.adapters.gradebook (adapters, a higher layer)",
        "course.parts:9 (learning side) imports autograder.static.answers (static, a higher layer)"]


def test_the_checker_reads_imports_inside_functions(tmp_path, monkeypatch):
    import test_layers

    monkeypatch.setattr(test_layers, "ROOT", tmp_path)
    module = tmp_path / "autograder" / "core" / "sneaky.py"
    module.parent.mkdir(parents=True)
    module.write_text("import math\n\n\ndef f():\n    from autograder.orchestration.compare import compare\n"
                      "    from . import scoring\n    return compare, scoring\n")
    found = imports(module, {"autograder.core.scoring"})
    assert [(i.line, i.target) for i in found] == [(1, "math"), (5, "autograder.orchestration.compare"),
                                                   (6, "autograder.core.scoring")]
    assert upward(found) == ["autograder.core.sneaky:5 (core) imports autograder.orchestration.compare "
                             "(orchestration, a higher layer)"]
