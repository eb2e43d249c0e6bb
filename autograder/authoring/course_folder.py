"""`attune init`: a course folder of an instructor's own, outside the package.

It holds the course's content (content/), its exercise list and keys (solutions/), nbgrader's configuration and a
README. The files come from autograder/templates/course/; the example transcript's key is written as a skeleton to
fill in, because a key shipped inside the package would be readable by every trainee who has the package.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from course.errors import AttuneError

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "course"
EXAMPLE = "example-first-call"
EXAMPLE_EXERCISE = "first-call"
COURSE_ID_LINE = 'c.CourseDirectory.course_id = "attune"'


def init_course(folder: Path, *, course_id: str | None = None, include: list[str] | None = None,
                own_rubric: bool = False) -> Path:
    """Make a course folder at ``folder`` (which must not exist, or be empty); return its resolved path."""
    folder = Path(folder).resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise AttuneError(f"{folder} already exists and is not empty: choose a new folder for the course.")
    course_id = course_id or folder.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", course_id):
        raise AttuneError(f"course id {course_id!r}: use letters, digits, '-', '_' or '.' (nbgrader uses it in paths); "
                          "pass --course-id.")
    include = list(include or [])
    shutil.copytree(TEMPLATE, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    config = folder / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8")
    if COURSE_ID_LINE not in text:
        raise AssertionError("the template's nbgrader_config.py lost its course id line")
    config.write_text(text.replace(COURSE_ID_LINE, f'c.CourseDirectory.course_id = "{course_id}"'), encoding="utf-8")
    manifest = folder / "solutions" / "exercises.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("__INCLUDE__", ", ".join(include)),
                        encoding="utf-8")
    readme = folder / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("__COURSE_ID__", course_id), encoding="utf-8")
    for kind in ("items", "scenarios", "data"):
        (folder / "content" / kind).mkdir(parents=True, exist_ok=True)
    _key_skeleton(folder / "content" / "transcripts" / f"{EXAMPLE}.yaml",
                  folder / "solutions" / EXAMPLE_EXERCISE / "keys" / f"{EXAMPLE}.yaml")
    if own_rubric:
        from course.library import SHIPPED

        shutil.copyfile(SHIPPED / "rubric.yaml", folder / "content" / "rubric.yaml")
    return folder


def _key_skeleton(transcript: Path, key: Path) -> None:
    """A key file listing every listener turn of ``transcript`` with its text, its answers left to write."""
    from course.transcript import load_transcript

    t = load_transcript(transcript)
    lines = ["# The reference answers for this transcript: for every listener turn its behaviour code, its empathy",
             "# level and why (one or two sentences trainees learn from). Keys stay in this folder; they are never",
             "# released. `attune validate` names every turn still to write.",
             f"transcript: {t.id}", "turns:"]
    for turn in t.therapist_turns:
        lines += [f"  # {turn.text}", f"  {turn.id}:", "    code:", "    empathy:", '    why: ""']
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_text("\n".join(lines) + "\n", encoding="utf-8")
