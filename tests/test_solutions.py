"""The answer keys are consistent: a key that disagrees with its cell or transcript would grade silently wrong."""

from __future__ import annotations

import ast
import json

import pytest
from conftest import ROOT

from autograder.literals import cell_source, hidden_tests
from autograder.scoring import check_reference
from course.rubric import load_rubric
from course.transcript import load_transcript

SOLUTIONS = sorted((ROOT / "solutions").rglob("*.ipynb"))


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


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_coding_key_matches_its_cell_transcript_and_rubric(path):
    rubric = load_rubric()
    cells = list(graded_cells(path))
    assert cells, "a solutions notebook without graded cells"
    format_checks = [_call(ast.parse(source), "check_format") for meta, source in cells if "check_format" in source]
    assert len(format_checks) == 1, "one visible format check per notebook"
    transcript = load_transcript(ast.literal_eval(format_checks[0].args[1]))
    for meta, source in cells:
        hidden = hidden_tests(source)
        if not hidden:
            assert meta["points"] == 0, f"{meta['grade_id']}: a visible-only test carries no points"
            continue
        grade = _call(ast.parse(hidden), "grade_coding")
        points = next(k.value for k in grade.keywords if k.arg == "points")
        # nbgrader: a score above the cell's points fails the whole submission, one below is silently lost.
        assert ast.literal_eval(points) == meta["points"], meta["grade_id"]
        reference = next(ast.literal_eval(n.value) for n in ast.parse(hidden).body
                         if isinstance(n, ast.Assign) and n.targets[0].id == "REFERENCE")
        check_reference(reference, rubric.code_ids, rubric.empathy_levels)
        assert list(reference) == list(transcript.coded_turn_ids), "the key must code every therapist turn, in order"
        for turn, item in reference.items():
            assert item["why"].endswith("."), f"{turn}: a rationale is one full sentence"
            assert item["why"].count(". ") <= item["why"].count("'") // 2 + 1, f"{turn}: one sentence only"
