"""Bring your own transcripts, end to end (issue 14, must-show b).

In a course folder outside the repository: import a WebVTT role-play and a CSV corpus coded by two annotators, key
the role-play (and finish the corpus's key draft) with the KeyCoder's Python API, have a colleague second-code the
role-play blind, see `attune agreement` (whose numbers must be autograder's agreement functions on the same codes),
find the build refused while disagreements are open, adjudicate them, build, then generate, release, submit,
grade, feedback and report with the real nbgrader and attune command lines.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from test_own_course import EXCHANGE, TRAINEES, attune, nbgrader, trainees_submit

pytestmark = pytest.mark.nbgrader

FIXTURES = ROOT / "tests" / "fixtures" / "imports"
ROLE_PLAY = "daniel-check-in"
CORPUS = "corpus-session-01"
# The role-play's key, as the instructor enters it in the KeyCoder; reasons carry a marker a test can find.
ROLE_PLAY_KEY = {"code": ("OQ", "CR", "VA"), "empathy": (3, 4, 4)}
COLLEAGUE = {"code": ("OQ", "SR", "VA"), "empathy": (3, 3, 4)}
EXERCISES = f"""\
include: []
exercises:
  - id: week2
    notebook: week-two.ipynb
    title: "Week 2 · Recorded role-plays"
    module: 2
    tier: beginner
    intro: >-
      A recorded check-in and a session from a research corpus. Code each listener turn.
    parts:
      - {{part: {ROLE_PLAY}, variable: daniel}}
      - {{part: {CORPUS}, variable: session}}
"""


def key_with_the_widget(course: Path, transcript: str, decide) -> list[str]:
    """Key every listener turn of ``transcript`` through the KeyCoder, as the instructor would in a notebook:
    ``decide(turn, index, row)`` sets the row's controls. Returns the listener turn ids."""
    from course.library import using
    from course.widgets import KeyCoder

    with using(course / "content"):
        coder = KeyCoder(transcript, key_path=course / "keys" / f"{transcript}.yaml", page_size=4)
        turns = list(coder.transcript.coded_turn_ids)
        for index, turn in enumerate(turns):
            decide(turn, index, coder.row(turn))
        assert coder.progress() == (len(turns), len(turns)), coder.incomplete()
    return turns


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_import_key_second_code_adjudicate_build_and_grade(tmp_path: Path, monkeypatch) -> None:
    from autograder.core.agreement import cohen_kappa
    from autograder.instructor.cohort import cohort_table
    from course.library import using
    from course.widgets.recorder import answer_cell_text

    attune("init", "course", "--course-id", "counselling-skills", "--include", "", cwd=tmp_path)
    course = tmp_path / "course"
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as handle:
        handle.write(EXCHANGE)
    (course / "content" / "transcripts" / "example-first-call.yaml").unlink()

    # 1. Import: a Teams role-play (WebVTT) and a corpus in which two annotators coded the same sessions.
    imported = attune("import", "vtt", str(FIXTURES / "teams-meeting.vtt"), "--id", ROLE_PLAY, "--listener",
                      "Ruth Adeyemi", "--client", "Daniel Osei", "--context",
                      "Daniel, a postgraduate student, meets his wellbeing adviser online for a fortnightly check-in.",
                      cwd=course)
    assert f"content/transcripts/{ROLE_PLAY}.yaml" in imported.stdout
    corpus = attune("import", "csv", str(FIXTURES / "corpus-sessions.csv"), "--transcript-col", "session_id",
                    "--position-col", "utt_no", "--speaker-col", "interlocutor", "--text-col", "utterance",
                    "--listener", "therapist,T", "--client", "client,C", "--annotator-col", "coder",
                    "--key-annotator", "ann_a", "--mapping", str(FIXTURES / "corpus-mapping.yaml"), cwd=course)
    assert "Annotators: ann_a, ann_b" in corpus.stdout
    draft = read(course / "keys" / f"{CORPUS}.yaml")["turns"]
    assert draft and all(entry.get("why") in ("", None) for entry in draft.values())  # codes, no reasons yet

    # 2. Key with the widget: the role-play from scratch, the corpus draft completed (its codes kept).
    def key_role_play(turn: str, i: int, row) -> None:
        row.code.value, row.empathy.value = ROLE_PLAY_KEY["code"][i], ROLE_PLAY_KEY["empathy"][i]
        row.why.value = f"KEYTEXT-{ROLE_PLAY}-{turn}: the instructor's reason."

    turns = key_with_the_widget(course, ROLE_PLAY, key_role_play)
    assert len(turns) == len(ROLE_PLAY_KEY["code"])

    def finish_draft(turn: str, i: int, row) -> None:
        if turn not in draft:  # left out by the importer (no rule covered it, or its rows disagreed)
            row.code.value, row.empathy.value = "GI", 2
        row.why.value = f"KEYTEXT-{CORPUS}-{turn}: the instructor's reason."

    key_with_the_widget(course, CORPUS, finish_draft)
    key = read(course / "keys" / f"{CORPUS}.yaml")["turns"]
    assert {t: (e["code"], e["empathy"]) for t, e in key.items() if t in draft} == {
        t: (e["code"], e["empathy"]) for t, e in draft.items()}, "the annotator's codes are kept"

    # 3. A colleague second-codes the role-play blind; their saved notebook comes back and is collected.
    attune("second-coding", ROLE_PLAY, "--coder", "ana", cwd=course)
    blind = next((course / "second-coding").glob(f"{ROLE_PLAY}-ana*.ipynb"))
    assert "KEYTEXT" not in blind.read_text(encoding="utf-8"), "the blind notebook holds no key"
    nb = json.loads(blind.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == "answers")
    colleague = {t: {"code": COLLEAGUE["code"][i], "empathy": COLLEAGUE["empathy"][i]} for i, t in enumerate(turns)}
    cell["source"] = answer_cell_text("coding", colleague)
    returned = tmp_path / "returned-by-ana.ipynb"
    returned.write_text(json.dumps(nb), encoding="utf-8")
    attune("second-coding", ROLE_PLAY, "--coder", "ana", "--collect", str(returned), cwd=course)

    # 4. Agreement: the command's kappas are autograder's functions on the same codes.
    report = attune("agreement", ROLE_PLAY, cwd=course).stdout
    section = report[report.index(f"{ROLE_PLAY}.ana  ("):]
    code_kappa = float(re.search(r"Cohen's kappa (-?\d\.\d\d)", section).group(1))
    level_kappa = float(re.search(r"weighted kappa \(quadratic\) (-?\d\.\d\d)", section).group(1))
    assert code_kappa == round(cohen_kappa(list(ROLE_PLAY_KEY["code"]), list(COLLEAGUE["code"])), 2)
    assert level_kappa == round(cohen_kappa(list(ROLE_PLAY_KEY["empathy"]), list(COLLEAGUE["empathy"]), "quadratic"), 2)
    assert attune("agreement", "--open-fails", cwd=course, ok=False).returncode == 3

    # 5. The exercise waits for adjudication; the instructor decides every open disagreement, with reasons.
    (course / "solutions" / "exercises.yaml").write_text(EXERCISES, encoding="utf-8")
    refused = attune("build", cwd=course, ok=False)
    assert refused.returncode == 1 and ROLE_PLAY in refused.stderr and "attune agreement" in refused.stderr
    assert not (course / "solutions" / "week2" / "week-two.ipynb").exists()
    monkeypatch.chdir(course)
    from course.widgets import Adjudicate

    with using(course / "content"):
        for transcript in (ROLE_PLAY, CORPUS):
            adjudicate = Adjudicate(transcript, root=course)
            for _record, turn in adjudicate.open:
                adjudicate.choose(turn, "key", f"KEYTEXT-{transcript}-{turn}: the key's reading stands, because ...")
            adjudicate.save()
    assert attune("agreement", ROLE_PLAY, CORPUS, "--open-fails", cwd=course).returncode == 0
    attune("validate", cwd=course)
    attune("build", cwd=course)

    # 6. The rest of a cohort's round, with the real nbgrader.
    nbgrader("generate_assignment", "week2", "--force", cwd=course)
    nbgrader("release_assignment", "week2", "--force", cwd=course)
    trainees_submit(course, "week2", seed=11)
    nbgrader("collect", "week2", cwd=course)
    static = attune("grade", "week2", "--static", "--quiet", cwd=course)
    assert "Graded 3 submission(s)" in static.stdout, static.stdout
    attune("grade", "week2", "--force", "--quiet", cwd=course)  # executed: the kernels find the imported content
    assert "No differences." in attune("grade", "week2", "--compare", cwd=course).stdout
    nbgrader("generate_feedback", "week2", cwd=course)
    attune("report", cwd=course)
    with using(course / "content"):
        table = cohort_table(course, ["week2"])
    assert sorted(table["student"].unique()) == sorted(TRAINEES)
    assert set(table["part"].unique()) == {ROLE_PLAY, CORPUS}
    page = (course / "feedback" / "ana" / "week2" / "week-two.html").read_text(encoding="utf-8")
    assert "Honestly? Up and down." in page, "the feedback shows the imported role-play"
    released = [p for p in (course / "exercises").rglob("*") if p.is_file()]
    assert not [p for p in released if "KEYTEXT" in p.read_text(encoding="utf-8", errors="replace")]
    assert not [p for p in released if "second-coding" in str(p) or "/keys/" in str(p)]
