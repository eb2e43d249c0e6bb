"""`attune init` and the content folders in force (course.library): fast checks, no nbgrader run."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from autograder.authoring.build import course_exercises, released_content
from autograder.authoring.course_folder import TEMPLATE, init_course
from autograder.cli import course_root, lab_command, main
from course.errors import AttuneError
from course.library import SHIPPED, content_folders, find, using
from course.loading import ContentError
from course.parts import load_part
from course.rubric import load_rubric


def test_every_course_config_is_the_template_with_its_own_id(tmp_path: Path) -> None:
    """One source of truth: the shipped course's nbgrader_config.py is what `attune init` writes, with id 'attune'."""
    assert (ROOT / "nbgrader_config.py").read_text() == (TEMPLATE / "nbgrader_config.py").read_text()
    course = init_course(tmp_path / "c", course_id="skills-2027")
    text = (course / "nbgrader_config.py").read_text()
    assert 'c.CourseDirectory.course_id = "skills-2027"' in text and '"attune"' not in text


def test_init_makes_a_course_folder_and_refuses_to_overwrite(tmp_path: Path) -> None:
    course = init_course(tmp_path / "my-course", include=["ex00"])
    for relative in ("README.md", "solutions/exercises.yaml", "content/transcripts/example-first-call.yaml",
                     "solutions/first-call/keys/example-first-call.yaml"):
        assert (course / relative).is_file(), relative
    assert all((course / "content" / kind).is_dir() for kind in ("items", "scenarios", "data"))
    assert course_root(course / "content") == course
    assert [x.entry.id for x in course_exercises(course / "solutions")] == ["ex00", "first-call"]
    with pytest.raises(AttuneError, match="already exists and is not empty"):
        init_course(course)
    with pytest.raises(AttuneError, match="course id 'my course'"):
        init_course(tmp_path / "other", course_id="my course")
    assert not (tmp_path / "other").exists() or not any((tmp_path / "other").iterdir())


def test_the_example_key_is_a_skeleton_so_no_key_is_in_the_package(tmp_path: Path) -> None:
    assert not list(TEMPLATE.rglob("keys")), "a key in the package would reach every trainee who has it"
    course = init_course(tmp_path / "c")
    key = (course / "solutions" / "first-call" / "keys" / "example-first-call.yaml").read_text()
    assert "T4:" in key and "code:\n" in key and 'why: ""' in key


def test_init_on_the_command_line_and_validate_names_the_turns_to_write(tmp_path: Path, capsys, monkeypatch) -> None:
    assert main(["init", str(tmp_path / "c"), "--own-rubric"]) == 0
    assert (tmp_path / "c" / "content" / "rubric.yaml").read_text() == (SHIPPED / "rubric.yaml").read_text()
    monkeypatch.chdir(tmp_path / "c")
    capsys.readouterr()
    assert main(["validate"]) == 1
    err = capsys.readouterr().err
    assert "example-first-call.yaml: 4 turn(s) to fix" in err
    assert "- T1: no behaviour code, no empathy level, no rationale" in err
    assert main(["init", str(tmp_path / "c")]) == 1
    assert "attune init: " in capsys.readouterr().err


def test_content_comes_from_the_course_first_and_an_id_twice_is_an_error(tmp_path: Path) -> None:
    own = tmp_path / "content"
    (own / "transcripts").mkdir(parents=True)
    source = (SHIPPED / "transcripts" / "amira-night-shifts.yaml").read_text()
    (own / "transcripts" / "amira-copy.yaml").write_text(source.replace("id: amira-night-shifts", "id: amira-copy"))
    with using(own):
        assert content_folders() == (own.resolve(), SHIPPED)
        assert find("transcripts", "amira-copy") == own.resolve() / "transcripts" / "amira-copy.yaml"
        assert load_part("amira-copy").items == load_part("amira-night-shifts").items
        (own / "transcripts" / "amira-night-shifts.yaml").write_text(source)
        with pytest.raises(ContentError, match="'amira-night-shifts' is defined twice"):
            load_part("amira-night-shifts")
        with pytest.raises(ContentError, match="No transcript or item file with id 'nobody'"):
            load_part("nobody")
    assert content_folders()[-1] == SHIPPED
    with pytest.raises(ContentError, match="No transcript with id 'amira-copy'"):
        find("transcripts", "amira-copy")


def test_an_own_rubric_is_in_force_and_travels_with_the_exercise(tmp_path: Path) -> None:
    own = tmp_path / "content"
    own.mkdir()
    text = (SHIPPED / "rubric.yaml").read_text().replace("title: Attune coding rubric", "title: Our own rubric")
    (own / "rubric.yaml").write_text(text)
    course = init_course(tmp_path / "c")
    entry = next(x.entry for x in course_exercises(course / "solutions") if x.entry.id == "first-call")
    with using(own, course / "content"):
        assert load_rubric().title == "Our own rubric"
        assert set(released_content(entry)) == {"rubric.yaml", "transcripts/example-first-call.yaml"}
    assert load_rubric().title == "Attune coding rubric"
    shipped_entry = next(x.entry for x in course_exercises(ROOT / "solutions") if x.entry.id == "ex01")
    assert released_content(shipped_entry) == {}, "the shipped exercises need nothing beside the package"


def test_lab_opens_the_courses_readme_in_a_course_of_ones_own(tmp_path: Path) -> None:
    course = init_course(tmp_path / "c")
    assert any(a.endswith("/lab/tree/README.md") for a in lab_command(course, []))
    assert any(a.endswith("/lab/tree/course/lessons/00-start-here.ipynb") for a in lab_command(ROOT, []))


def test_a_notebook_anywhere_in_a_course_folder_finds_its_content(tmp_path: Path, monkeypatch) -> None:
    course = init_course(tmp_path / "c")
    lessons = course / "lessons" / "week-one"
    lessons.mkdir(parents=True)
    monkeypatch.chdir(lessons)  # a kernel starts in its notebook's folder
    assert content_folders()[0] == (course / "content").resolve()
    assert load_part("example-first-call").items == {f"T{i}": ("code", "empathy") for i in range(1, 5)}
    monkeypatch.chdir(tmp_path)  # outside any course: the shipped curriculum only
    assert content_folders() == (SHIPPED,)


def test_an_exercise_finds_a_key_in_the_courses_own_keys_folder(tmp_path: Path) -> None:
    """`attune import` writes the keys of imported transcripts to <course>/keys/; the exercise's own keys/ wins."""
    from autograder.authoring.build import key_file, load_key

    course = init_course(tmp_path / "c")
    exercise = next(x for x in course_exercises(course / "solutions") if x.entry.id == "first-call")
    own = course / "solutions" / "first-call" / "keys" / "example-first-call.yaml"
    assert key_file(exercise.keys, "example-first-call") == own
    shared = course / "keys" / "example-first-call.yaml"
    shared.parent.mkdir()
    own.rename(shared)
    assert key_file(exercise.keys, "example-first-call") == shared
    assert load_key(exercise.keys, "example-first-call")["transcript"] == "example-first-call"
    shared.unlink()
    with pytest.raises(ContentError, match=r"first-call/keys/example-first-call.yaml: no reference answers"):
        load_key(exercise.keys, "example-first-call")
