"""The answer keys are consistent: a key that disagrees with its cell, its content or the rubric would grade
silently wrong. And the solutions notebooks are exactly what `attune build` writes from the keys today."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest
from conftest import ROOT

from autograder.authoring.build import KEYS_DIR, build_exercise, load_manifest
from autograder.core.literals import cell_source, hidden_tests
from autograder.core.scoring import check_reference
from course.parts import load_part

SOLUTIONS = ROOT / "solutions"
EXERCISES = load_manifest(SOLUTIONS).exercises


def graded_cells(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell["cell_type"] == "code":
            yield meta, cell_source(cell)


def _call(tree: ast.AST, name: str) -> ast.Call:
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == name]
    assert len(calls) == 1, f"expected one call to {name}"
    return calls[0]


@pytest.mark.parametrize("entry", EXERCISES, ids=lambda e: e.id)
def test_solutions_notebook_is_what_the_build_writes_today(entry):
    committed = nbformat.read(SOLUTIONS / entry.id / entry.notebook, as_version=4)
    built = build_exercise(entry, SOLUTIONS / entry.id / KEYS_DIR)
    assert nbformat.writes(committed) == nbformat.writes(built), (
        f"solutions/{entry.id} is out of date with its keys or content: run `attune build {entry.id}` and "
        "`attune exercises` and commit")


@pytest.mark.parametrize("entry", EXERCISES, ids=lambda e: e.id)
def test_every_key_matches_its_cell_content_and_rubric(entry):
    path = SOLUTIONS / entry.id / entry.notebook
    graded = list(graded_cells(path))
    scored = [(m, s) for m, s in graded if hidden_tests(s)]
    auto_parts = [p for p in entry.parts if p.graded == "auto"]
    assert len(scored) == len(auto_parts), "one hidden-test cell per autograded part"
    for meta, source in graded:
        hidden = hidden_tests(source)
        if not hidden:
            # Format checks carry no points; manually graded answer cells carry theirs.
            assert meta["points"] == 0 or meta.get("solution"), f"{meta['grade_id']}: visible test with points"
            continue
        tree = ast.parse(hidden)
        call = _call(tree, "grade")
        keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        part = load_part(keywords["part"])
        # nbgrader: a score above the cell's points fails the whole submission, one below is silently lost.
        assert keywords["points"] == meta["points"] == part.n_fields, meta["grade_id"]
        reference = next(ast.literal_eval(n.value) for n in tree.body
                         if isinstance(n, ast.Assign) and n.targets[0].id == "REFERENCE")
        check_reference(reference, part.rules)
        assert list(reference) == list(part.items), "the key answers every item, in order"
        for item_id, item in reference.items():
            assert tuple(k for k in item if k != "why") == part.items[item_id], f"{item_id}: fields"
            assert item["why"].strip().endswith((".", ".'", '."', "?")), f"{item_id}: a rationale is a full sentence"
