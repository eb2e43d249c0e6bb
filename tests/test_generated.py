"""exercises/ is exactly what nbgrader makes from solutions/, and no answer key reaches a trainee."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from autograder.authoring.exercises import assignment_folders, generate_exercise
from autograder.core.literals import answers_in_notebook, cell_source, grade_cell, hidden_tests

ASSIGNMENTS = assignment_folders(ROOT)


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.is_file() and ".ipynb_checkpoints" not in p.parts and "__pycache__" not in p.parts}


@pytest.mark.nbgrader
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_are_what_generate_assignment_makes_today(tmp_path, assignment):
    fresh = generate_exercise(ROOT, assignment, tmp_path)
    committed = ROOT / "exercises" / assignment
    fresh_files, committed_files = _files(fresh), _files(committed)
    assert sorted(committed_files) == sorted(fresh_files), "run `make exercises` and commit exercises/"
    for name, path in fresh_files.items():
        if name.endswith(".ipynb"):
            same = json.loads(path.read_text()) == json.loads(committed_files[name].read_text())
        else:
            same = path.read_bytes() == committed_files[name].read_bytes()
        assert same, f"exercises/{assignment}/{name} differs from solutions/: run `make exercises` and commit"


def answer_variables(nb: dict) -> list[str]:
    """The answer variables of a notebook: one per answer cell (grade id answers_<variable>)."""
    ids = [c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "") for c in nb["cells"]]
    return [i.removeprefix("answers_") for i in ids if i.startswith("answers_")]


def answer_key_markers() -> list[str]:
    """Strings that only the answer key holds: rationales, reference literals, hidden-test text, key files."""
    markers = []
    for assignment in ASSIGNMENTS:
        for path in (ROOT / "solutions" / assignment).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            for cell in nb["cells"]:
                hidden = hidden_tests(cell_source(cell))
                # The rationales are the key's own words; the surrounding code is a template anyone may read.
                markers += [line.strip() for line in hidden.splitlines() if '"why":' in line]
            for variable in answer_variables(nb):
                answers = answers_in_notebook(nb, variable).value or {}
                markers += [f'"{item_id}": {json.dumps(item)}' for item_id, item in answers.items()
                            if len(json.dumps(item)) > 30]
        for key in (ROOT / "solutions" / assignment / "keys").rglob("*.yaml"):
            data = yaml.safe_load(key.read_text())
            entries = (data.get("turns") or data.get("items") or {}).values()
            for entry in entries:
                for field in ("why", "why_best", "example", "weaker"):
                    value = entry.get(field)
                    values = value.values() if isinstance(value, dict) else [value]
                    markers += [" ".join(v.split()) for v in values if isinstance(v, str) and len(v) > 40]
    assert len(markers) > 200, "expected the key to yield many markers"
    return markers


def _leaks(texts: dict[str, str], markers: list[str]) -> list[str]:
    flat = {name: " ".join(html.unescape(text).split()) for name, text in texts.items()}
    return [f"{name}: {marker[:60]}" for name, text in texts.items() for marker in markers
            if marker in text or " ".join(marker.split()) in flat[name]]


def test_no_answer_key_in_exercises_or_course():
    markers = answer_key_markers()
    texts = {str(p.relative_to(ROOT)): p.read_text(errors="ignore")
             for folder in ("exercises", "course") for p in _files(ROOT / folder).values()}
    assert any("exercises/" in name for name in texts) and any("course/" in name for name in texts)
    assert _leaks(texts, [*markers, "BEGIN HIDDEN TESTS", "REFERENCE = {"]) == []


def test_the_released_answer_cells_are_the_stub():
    for assignment in ASSIGNMENTS:
        for path in (ROOT / "exercises" / assignment).glob("*.ipynb"):
            nb = json.loads(path.read_text())
            variables = answer_variables(nb)
            assert variables, f"{path}: no answer cells"
            for variable in variables:
                assert grade_cell(nb, f"answers_{variable}") is not None
                assert answers_in_notebook(nb, variable).value == {}, f"{path}: {variable} is not empty"


def _clean_source_copy(dest: Path) -> Path:
    """The files git tracks (plus new ones it does not ignore): a build from the repository itself would
    also pick up whatever an earlier build left in build/."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def test_no_answer_key_in_the_built_wheel(tmp_path):
    source = _clean_source_copy(tmp_path / "src")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(source)],
                   check=True, cwd=tmp_path, capture_output=True)
    wheel = next(tmp_path.glob("attune-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        texts = {name: archive.read(name).decode("utf-8", errors="ignore") for name in names}
    needed = {"course/rubric.yaml", "course/transcripts/amira-night-shifts.yaml",
              "course/scenarios/mateus-first-term.yaml", "autograder/core/scoring.py",
              "autograder/templates/feedback/index.html.j2",  # nbgrader_config.py's feedback page
              "autograder/lab-selfpaced/labconfig/page_config.json",  # `attune lab`: nbgrader's tools off
              "autograder/lab-selfpaced/jupyter_server_config.json"}
    assert needed <= set(names)
    modules = [n for n in names if n.endswith(".py")]
    assert all((ROOT / n).is_file() and (ROOT / n).read_text() == texts[n] for n in modules), "stale module in wheel"
    assert not [n for n in names if n.startswith(("solutions/", "exercises/", "tests/"))]
    assert _leaks(texts, answer_key_markers()) == []
