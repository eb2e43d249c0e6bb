"""A corpus of hostile and broken submissions, graded three ways: `attune grade --static`, plain `nbgrader
autograde` with the project's config, and the cross-check `attune grade --compare`.

For every case: static grading gives the score the answers as written earn (worked out here with the scoring
core from the answers each case writes), or 0 with a reason that names what is wrong; what nbgrader records is
that same score (never an unearned one); every rubric cell whose executed score differs is listed by the
cross-check and flagged for review; the honest submissions beside them keep their grades; and no submitted file
is changed. The attacks marked ``attack=True`` are checked to really fool a plain executed test cell, so the
corpus proves something.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, make_course

from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from autograder.core.literals import cell_source, grade_cell
from autograder.core.scoring import score_items
from autograder.instructor.cohort import graded_parts
from course.parts import load_part
from course.widgets.recorder import format_literal

pytestmark = pytest.mark.nbgrader
EXERCISE, NOTEBOOK = "ex01", "hearing-the-concern"
CELL_TIMEOUT = 10  # c.Execute.timeout of the test course (nbgrader's default is 30 s)
PARTS = {p.variable: p for p in graded_parts(ROOT / "solutions", EXERCISE)}
RULES = {v: load_part(p.part).rules for v, p in PARTS.items()}
KEY_TEXT = "leaves the whole answer to Amira"  # from the rationale of amira's T1 in solutions/ex01/keys only


def correct(variable: str) -> dict:
    return {item: {k: v for k, v in fields.items() if k != "why"} for item, fields in PARTS[variable].reference.items()}


def partial(variable: str) -> dict:
    """The reference with the first item left out and the second item's code changed."""
    answers = correct(variable)
    first, second = list(answers)[:2]
    del answers[first]
    answers[second]["code"] = "GI" if answers[second].get("code") != "GI" else "AD"
    return answers


def points(variable: str, answers: object) -> float:
    part = PARTS[variable]
    return score_items(answers, part.reference, RULES[variable], part.points).points


def literal(variable: str, answers: dict) -> str:
    return f"{variable} = {format_literal(answers)}\n{variable}_form.record({variable})"


@dataclass
class Case:
    """A submission and what each grading must make of it. ``expected``: the points of each part as written
    (a float) or 0 with a reason (a string the recorded comment must contain)."""

    name: str
    build: Callable[[dict], bytes]
    expected: dict[str, float | str]
    attack: bool = False  # the executed test cell is fooled: plain nbgrader would record unearned points
    readable: bool = True  # nbgrader can read the file (else it fails the submission and records nothing)
    secret: bool = False  # the trainee's code prints a key: it must not reach the feedback
    notes: list[str] = field(default_factory=list)


def answer_cell(nb: dict, variable: str) -> dict:
    return grade_cell(nb, f"answers_{variable}")[1]


def with_sources(sources: dict[str, str], edit: Callable[[dict], None] | None = None) -> Callable[[dict], bytes]:
    """A builder: the released notebook with these answer-cell sources (others untouched), then ``edit``."""
    def build(released: dict) -> bytes:
        nb = copy.deepcopy(released)
        for variable, source in sources.items():
            answer_cell(nb, variable)["source"] = source
        if edit is not None:
            edit(nb)
        return json.dumps(nb, indent=1).encode()
    return build


def insert_after(grade_id: str, source: str) -> Callable[[dict], None]:
    def edit(nb: dict) -> None:
        index = grade_cell(nb, grade_id)[0]
        nb["cells"].insert(index + 1, nbformat.v4.new_code_cell(source))
    return edit


def zero(reason: str) -> dict[str, float | str]:
    return {"amira": reason, "kwame": 0.0, "concerns": 0.0}


def only_amira(value: float | str) -> dict[str, float | str]:
    return {"amira": value, "kwame": 0.0, "concerns": 0.0}


ALL_CORRECT = {v: literal(v, correct(v)) for v in PARTS}
PATCH_GRADE = ("import autograder.cells\n"
               "autograder.cells.grade = lambda answers, reference, *, part, points, reveal=False: float(points)\n")


def _rename(grade_id: str, new: str) -> Callable[[dict], None]:
    def edit(nb: dict) -> None:
        grade_cell(nb, grade_id)[1]["metadata"]["nbgrader"]["grade_id"] = new
    return edit


def _delete(grade_id: str) -> Callable[[dict], None]:
    def edit(nb: dict) -> None:
        del nb["cells"][grade_cell(nb, grade_id)[0]]
    return edit


def _duplicate_answer(first: dict, last: dict) -> Callable[[dict], None]:
    def edit(nb: dict) -> None:
        index, cell = grade_cell(nb, "answers_amira")
        cell["source"] = literal("amira", first)
        later = copy.deepcopy(cell)
        later["id"] = "later-copy"
        later["source"] = literal("amira", last)
        nb["cells"].insert(index + 1, later)
    return edit


def _duplicate_test(nb: dict) -> None:
    index, cell = grade_cell(nb, "score_amira")
    fake = copy.deepcopy(cell)
    fake["id"] = "fake-test"
    fake["source"] = "20.0"
    nb["cells"].insert(index, fake)  # before the real one: DeduplicateIds keeps the id on the last


def _edit_test(nb: dict) -> None:
    grade_cell(nb, "score_amira")[1]["source"] = "20.0"


def _markdown_answer(nb: dict) -> None:
    cell = answer_cell(nb, "amira")
    cell["cell_type"] = "markdown"
    cell.pop("outputs", None)
    cell.pop("execution_count", None)


def _broken_metadata(nb: dict) -> None:
    answer_cell(nb, "kwame")["metadata"]["nbgrader"]["points"] = "lots"


def _old_format(released: dict) -> bytes:
    nb = copy.deepcopy(released)
    for variable, source in ALL_CORRECT.items():
        answer_cell(nb, variable)["source"] = source
    old = nbformat.convert(nbformat.reads(json.dumps(nb), as_version=4), 3)
    return nbformat.writes(old, version=3).encode()


def _huge(released: dict) -> bytes:
    nb = json.loads(with_sources(ALL_CORRECT)(released))
    filler = grade_cell(nb, "form_amira")[1]  # a saved output: what a huge print leaves in the file
    filler["outputs"] = [{"name": "stdout", "output_type": "stream", "text": "x" * (50 * 1024 * 1024)}]
    return json.dumps(nb).encode()


READ_KEY = ("print(open('../../../solutions/ex01/keys/amira-night-shifts.yaml').read())\n"
            "import sqlite3\n"
            "print(sqlite3.connect('../../../gradebook.db').execute('select source from source_cell').fetchall())\n")
COPY_KEY = ("import yaml\n"
            "key = yaml.safe_load(open('../../../solutions/ex01/keys/amira-night-shifts.yaml'))['turns']\n"
            "amira = {t: {'code': v['code'], 'empathy': v['empathy']} for t, v in key.items()}\n")

CASES = [
    Case("honest-full", with_sources(ALL_CORRECT), {v: points(v, correct(v)) for v in PARTS}),
    Case("honest-partial", with_sources({v: literal(v, partial(v)) for v in PARTS}),
         {v: points(v, partial(v)) for v in PARTS}),
    Case("untouched", with_sources({}), {v: 0.0 for v in PARTS}),
    Case("patch-grade-function", with_sources({"amira": PATCH_GRADE + "amira = {}"}), {v: 0.0 for v in PARTS},
         attack=True),
    Case("patch-scoring-module", with_sources({"amira": (
        "import autograder.core.scoring, autograder.adapters.cells\n"
        "real = autograder.core.scoring.score_items\n"
        "def generous(answers, reference, rules, points, **kw):\n"
        "    return real({k: {f: v for f, v in r.items() if f != 'why'} for k, r in reference.items()},"
        " reference, rules, points, **kw)\n"
        "autograder.core.scoring.score_items = autograder.adapters.cells.score_items = generous\n"
        "amira = {}")}), {v: 0.0 for v in PARTS}, attack=True),
    Case("reassigned-later", with_sources({"amira": literal("amira", partial("amira"))},
                                          insert_after("check_amira", f"amira = {format_literal(correct('amira'))}")),
         only_amira(points("amira", partial("amira"))), attack=True),
    Case("sys-exit", with_sources({"amira": literal("amira", correct("amira")) + "\nimport sys\nsys.exit(0)"}),
         only_amira(20.0)),
    Case("os-exit", with_sources({"amira": literal("amira", partial("amira")) + "\nimport os\nos._exit(0)"}),
         only_amira(points("amira", partial("amira"))), attack=True,
         notes=["the kernel dies: nbgrader would score every later test cell as passed (no output)"]),
    Case("kill-kernel", with_sources({"amira": "import os, signal\namira = {}\nos.kill(os.getpid(), signal.SIGKILL)"}),
         {v: 0.0 for v in PARTS}, attack=True),
    Case("endless-loop", with_sources({"amira": literal("amira", correct("amira")) + "\nwhile True:\n    pass"}),
         only_amira(20.0), notes=[f"interrupted by the cell timeout ({CELL_TIMEOUT} s here)"]),
    Case("huge-output", with_sources({"amira": literal("amira", correct("amira")) + "\nprint('y' * 20_000_000)"}),
         only_amira(20.0)),
    Case("stderr-in-answer", with_sources({"amira": literal("amira", correct("amira"))
                                           + "\nimport sys\nprint('noise', file=sys.stderr)"}), only_amira(20.0)),
    Case("stderr-during-grading", with_sources({"amira": literal("amira", correct("amira")) + (
        "\nimport sys, autograder.adapters.cells\nreal = autograder.adapters.cells.render_feedback\n"
        "def noisy(*a, **k):\n    print('sabotage', file=sys.stderr)\n    return real(*a, **k)\n"
        "autograder.adapters.cells.render_feedback = noisy")}), only_amira(20.0),
         notes=["the executed test cell scores 0 (stderr): the other way round, also flagged"]),
    Case("numpy-scalar", with_sources({"amira": "import numpy as np\n" + literal("amira", correct("amira")).replace(
        '"empathy": 3}', '"empathy": np.int64(3)}', 1)}), only_amira(19.0)),
    Case("computed-answers", with_sources({"amira": "amira = {f'T{i}': {'code': 'OQ', 'empathy': 3} "
                                                    "for i in range(1, 11)}"}),
         zero("computed by code"), attack=True),
    # Unsandboxed, this copy fooled the executed test cell (full marks); in the grading sandbox solutions/ is not
    # there, so the copy fails when run: see test_the_sandbox_keeps_the_key_and_the_gradebook_out_of_reach.
    Case("answers-copied-from-key", with_sources({"amira": COPY_KEY}), zero("computed by code")),
    Case("reads-solutions-and-gradebook", with_sources({"amira": READ_KEY + "amira = {}"}), {v: 0.0 for v in PARTS},
         secret=True),
    Case("edited-test-cell", with_sources(ALL_CORRECT, _edit_test), {v: points(v, correct(v)) for v in PARTS}),
    Case("deleted-test-cell", with_sources({"amira": literal("amira", partial("amira"))}, _delete("score_amira")),
         only_amira(points("amira", partial("amira"))), notes=["no executed score at all: flagged"]),
    Case("duplicated-test-cell", with_sources({"amira": literal("amira", partial("amira"))}, _duplicate_test),
         only_amira(points("amira", partial("amira")))),
    Case("renamed-test-cell", with_sources({"amira": literal("amira", partial("amira"))},
                                           _rename("score_amira", "score_mine")),
         only_amira(points("amira", partial("amira")))),
    Case("renamed-answer-cell", with_sources(ALL_CORRECT, _rename("answers_amira", "answers_mine")),
         {"amira": "answer cell (answers_amira) is not in the notebook", "kwame": 24.0, "concerns": 24.0},
         attack=True),
    Case("deleted-answer-cell", with_sources({}, _delete("answers_amira")),
         zero("answer cell (answers_amira) is not in the notebook")),
    Case("duplicated-answer-cell", with_sources({}, _duplicate_answer(correct("amira"), partial("amira"))),
         only_amira(points("amira", partial("amira")))),
    Case("answer-cell-made-markdown", with_sources({"amira": literal("amira", correct("amira"))}, _markdown_answer),
         only_amira(20.0)),
    Case("broken-metadata", with_sources({"amira": literal("amira", correct("amira"))}, _broken_metadata),
         only_amira(20.0)),
    Case("syntax-error", with_sources({"amira": 'amira = {"T1": {"code": "OQ", "empathy": 3}'}),
         zero("not valid Python")),
    Case("unknown-codes-missing-turns-wrong-types", with_sources({"amira": literal("amira", {
        "T1": {"code": "ZZ", "empathy": 3}, "T2": {"code": 5, "empathy": "3"}, "T3": {"code": "OQ", "empathy": 3.0}})}),
         only_amira(points("amira", {"T1": {"code": "ZZ", "empathy": 3}, "T2": {"code": 5, "empathy": "3"},
                                     "T3": {"code": "OQ", "empathy": 3.0}}))),
    Case("invalid-json", lambda released: with_sources(ALL_CORRECT)(released)[:-200], zero("broken JSON"),
         readable=False),
    Case("empty-file", lambda released: b"", zero("is empty"), readable=False),
    Case("old-nbformat-3", _old_format, {v: points(v, correct(v)) for v in PARTS}),
    Case("notebook-of-50-mb", _huge, {v: points(v, correct(v)) for v in PARTS}),
]


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def gradebook(course: Path) -> dict[tuple[str, str], tuple]:
    """(student, cell) -> (auto score, needs manual grade) for every graded cell; (student, cell, "comment") ->
    its auto comment for every cell with one; (student, "flagged") -> whether the notebook is flagged."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        for submission in gb.assignment_submissions(EXERCISE):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    found[submission.student.id, grade.name] = (grade.auto_score, grade.needs_manual_grade)
                for comment in notebook.comments:  # answer cells' comments; a flagged test cell's reason too
                    found[submission.student.id, comment.name, "comment"] = comment.auto_comment
                found[submission.student.id, "flagged"] = notebook.flagged
    return found


def attune(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.cli", *args, "--course", str(cwd)], cwd=cwd,
                          env=nbgrader_env(),
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One course with every case submitted; graded executed (plain nbgrader) in it, and statically in a copy."""
    executed = make_course(tmp_path_factory.mktemp("hostile"))
    with (executed / "nbgrader_config.py").open("a") as config:  # the endless loop need not take nbgrader's 30 s
        config.write(f"\nc.Execute.timeout = {CELL_TIMEOUT}\n")
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=executed)
    released = json.loads((executed / "exercises" / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
    for case in CASES:
        folder = executed / "submitted" / case.name / EXERCISE
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_bytes(case.build(released))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    static = executed.parent / "static-copy"
    shutil.copytree(executed, static)
    before = digest(executed / "submitted")
    nbgrader = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", EXERCISE], cwd=executed,
                              env=nbgrader_env(), capture_output=True, text=True, timeout=1800)
    compared = attune("grade", EXERCISE, "--compare", "--quiet", cwd=executed)
    run_nbgrader(["generate_feedback", EXERCISE], cwd=executed)
    static_run = attune("grade", EXERCISE, "--static", "--quiet", cwd=static)
    assert static_run.returncode == 0, static_run.stderr
    return {"executed": executed, "static": static, "before": before, "nbgrader": nbgrader, "compare": compared,
            "static_run": static_run}


def test_the_corpus_is_large_enough_and_covers_the_attacks():
    assert len(CASES) >= 25
    assert sum(c.attack for c in CASES) >= 6


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_static_grading_gives_the_score_as_written_or_zero_with_a_reason(graded, case):
    recorded = gradebook(graded["static"])
    for variable, expected in case.expected.items():
        score, _manual = recorded[case.name, f"score_{variable}"]
        if isinstance(expected, str):
            assert score == 0.0, (case.name, variable)
            comment = recorded.get((case.name, f"answers_{variable}", "comment")) or ""
            assert expected in comment, (case.name, variable, comment)
        else:
            assert score == pytest.approx(expected, abs=1e-9), (case.name, variable)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plain_nbgrader_autograde_records_the_static_score_never_an_unearned_one(graded, case):
    recorded = gradebook(graded["executed"])
    for variable, expected in case.expected.items():
        score, _manual = recorded[case.name, f"score_{variable}"]
        want = 0.0 if isinstance(expected, str) else expected
        if case.readable:
            assert score == pytest.approx(want, abs=1e-9), (case.name, variable)
        else:  # nbgrader cannot read the file: it fails this submission and records no score
            assert score in (None, 0.0), (case.name, variable)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_executed_score_that_differs_is_caught_and_flagged(graded, case):
    if not case.readable:
        return
    nb = json.loads((graded["executed"] / "autograded" / case.name / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
    entries = nb["metadata"]["attune"]["cells"]
    assert nb["metadata"]["attune"]["graded"] == "executed"
    recorded = gradebook(graded["executed"])
    differing = {cell for cell, e in entries.items()
                 if e["executed"] is None or abs(e["executed"] - e["static"]) > 1e-9}
    if case.attack:
        assert differing, f"{case.name}: the attack did not change the executed score, so it proves nothing"
    listed = {line.split()[3].rstrip(":") for line in graded["compare"].stdout.splitlines()
              if line.strip().startswith("DIFFERS") and line.split()[1] == case.name}
    assert listed == differing, case.name
    for cell in differing:
        variable = cell.removeprefix("score_")
        assert recorded[case.name, cell][1] is True, f"{case.name} {cell}: not flagged as needing grading"
        # The reason is on the test cell the grader scores, not on the answer cell (whose comment the trainee
        # reads in feedback), and the notebook shows as flagged in formgrader.
        assert (recorded[case.name, cell, "comment"] or "").startswith("Attune review:"), case.name
        assert not (recorded.get((case.name, f"answers_{variable}", "comment")) or "").startswith("Attune review")
        assert recorded[case.name, "flagged"] is True, case.name


def test_other_submissions_keep_their_grades_and_nothing_is_lost(graded):
    assert digest(graded["executed"] / "submitted") == graded["before"], "a submitted file was changed"
    assert digest(graded["static"] / "submitted") == graded["before"]
    for course in (graded["executed"], graded["static"]):
        recorded = gradebook(course)
        for name in ("honest-full", "honest-partial"):
            case = next(c for c in CASES if c.name == name)
            for variable, expected in case.expected.items():
                assert recorded[name, f"score_{variable}"] == (pytest.approx(expected), False), (course.name, name)


def test_static_and_executed_autograded_notebooks_agree_cell_by_cell(graded):
    """Attune's sanitising mirrors nbgrader's: the same sources, cell types and nbgrader metadata."""
    for case in CASES:
        if not case.readable:
            continue
        paths = [course / "autograded" / case.name / EXERCISE / f"{NOTEBOOK}.ipynb"
                 for course in (graded["executed"], graded["static"])]
        executed, static = (json.loads(p.read_text()) for p in paths)
        assert [(c["cell_type"], cell_source(c), c["metadata"].get("nbgrader")) for c in executed["cells"]] == \
               [(c["cell_type"], cell_source(c), c["metadata"].get("nbgrader")) for c in static["cells"]], case.name


def test_feedback_never_shows_what_trainee_code_read(graded):
    for case in CASES:
        page = graded["executed"] / "feedback" / case.name / EXERCISE / f"{NOTEBOOK}.html"
        if not page.exists():
            assert not case.readable, f"{case.name}: no feedback"
            continue
        text = " ".join(html.unescape(page.read_text()).split())
        assert "REFERENCE" not in text and "BEGIN HIDDEN TESTS" not in text, case.name
        if case.secret:  # the trainee earned no rationale, and what their code printed is left out
            assert KEY_TEXT not in text and "T1: code: OQ" not in text, case.name


def test_the_summaries_name_the_unreadable_files(graded):
    out = graded["static_run"].stdout
    assert "invalid-json: hearing-the-concern.ipynb is not a valid notebook file" in out
    assert "empty-file: hearing-the-concern.ipynb is empty" in out
    assert "DIFFERS" in graded["compare"].stdout and graded["compare"].returncode == 3


def test_the_sandbox_keeps_the_key_and_the_gradebook_out_of_reach(graded):
    """Executed grading ran these notebooks in the grading sandbox: the trainee's code found no solutions/ and no
    gradebook (without the sandbox it read and copied both: the cases above were written for that)."""
    for name in ("answers-copied-from-key", "reads-solutions-and-gradebook"):
        nb = json.loads((graded["executed"] / "autograded" / name / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
        assert nb["metadata"]["attune"]["sandboxed"] is True
        outputs = grade_cell(nb, "answers_amira")[1]["outputs"]
        assert [o.get("ename") for o in outputs if o["output_type"] == "error"] == ["FileNotFoundError"], name
        assert KEY_TEXT not in json.dumps(outputs), name
