"""autograder.adapters.config: one reading of a course folder's nbgrader_config.py for every `attune` command."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.adapters.config import ConfigError, load_config, masked_url, sqlite_file
from autograder.adapters.gradebook import check_gradebook

FLAGS = ("grade", "report", "certify", "export")


def course_folder(tmp_path: Path, extra: str = "") -> Path:
    """A course folder with the course's own nbgrader_config.py, plus ``extra`` lines."""
    folder = tmp_path / "course-folder"
    folder.mkdir()
    (folder / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text() + extra)
    return folder


def test_defaults_are_nbgraders_sqlite_file_next_to_the_config_and_the_files_course_id(tmp_path):
    folder = course_folder(tmp_path)
    config = load_config(folder)
    assert config.root == folder.resolve()
    assert config.db_url == f"sqlite:///{folder.resolve() / 'gradebook.db'}"
    assert sqlite_file(config.db_url) == folder.resolve() / "gradebook.db"
    assert config.course_id == "attune"
    assert (config.source, config.release, config.submitted, config.autograded, config.feedback) == (
        "solutions", "exercises", "submitted", "autograded", "feedback")
    assert "keys" in config.ignore and not config.late_penalties


def test_the_file_names_the_gradebook_and_course_and_flags_override_it(tmp_path, monkeypatch):
    folder = course_folder(tmp_path, '\nc.CourseDirectory.db_url = "postgresql+psycopg://grader:s3cret@db.example/g"'
                                     '\nc.CourseDirectory.course_id = "counselling-2027"\n')
    config = load_config(folder)
    assert (config.db_url, config.course_id) == ("postgresql+psycopg://grader:s3cret@db.example/g", "counselling-2027")
    assert sqlite_file(config.db_url) is None
    assert "s3cret" not in config.shown_url and "grader:***@db.example" in config.shown_url
    flagged = load_config(folder, db_url="sqlite:////elsewhere/other.db", course_id="counselling-2028")
    assert (flagged.db_url, flagged.course_id) == ("sqlite:////elsewhere/other.db", "counselling-2028")
    # A course folder given relative to the working directory is the same course, with the same gradebook.
    monkeypatch.chdir(tmp_path)
    assert load_config(Path(folder.name)) == config


def test_grading_reads_the_same_configuration(tmp_path):
    from autograder.adapters.config import CourseConfig

    folder = course_folder(tmp_path, '\nc.CourseDirectory.course_id = "counselling-2027"\n')
    course = CourseConfig.load(folder, course_id="other")
    assert (course.course_id, course.db_url) == ("other", load_config(folder).db_url)
    assert CourseConfig.load(folder).course_id == "counselling-2027"


def test_a_broken_config_names_the_file_the_line_and_what_to_do(tmp_path):
    folder = course_folder(tmp_path, "\nc.CourseDirectory.course_id = 'unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    message = str(caught.value)
    assert str(folder.resolve() / "nbgrader_config.py") in message and "line" in message and "Fix" in message
    (folder / "nbgrader_config.py").write_text("c = get_config()\nimport no_such_module_here\n")
    with pytest.raises(ConfigError, match=r"nbgrader_config\.py, line 2 .*ModuleNotFoundError.*no_such_module_here"):
        load_config(folder)


def test_a_missing_config_says_this_is_not_a_course_folder(tmp_path):
    with pytest.raises(ConfigError, match=r"no nbgrader_config.py in .*not a course folder.*--course"):
        load_config(tmp_path)


def test_the_cli_turns_a_config_error_into_a_message_and_an_exit_code(tmp_path, capsys):
    from autograder.cli import main

    folder = course_folder(tmp_path, "\nthis is not python\n")
    (folder / "solutions").mkdir()
    for verb in ("report", "certify", "export"):
        assert main([verb, "--course", str(folder)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"attune {verb}: ") and "nbgrader_config.py, line" in err
    assert main(["grade", "ex01", "--course", str(folder)]) == 1
    assert capsys.readouterr().err.startswith("attune grade: ")


def test_every_gradebook_verb_has_the_same_flags_and_help(capsys):
    from autograder.adapters.config import COURSE_ID_HELP, DB_HELP
    from autograder.cli import main

    for verb in FLAGS:
        with pytest.raises(SystemExit):
            main([verb, "--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines to the terminal's width
        assert f"--db URL {' '.join(DB_HELP.split())}" in text, verb
        assert f"--course-id ID {' '.join(COURSE_ID_HELP.split())}" in text, verb


def test_no_gradebook_is_a_clear_error_and_creates_nothing(tmp_path):
    folder = course_folder(tmp_path)
    with pytest.raises(ConfigError, match=r"does not exist .*attune grade"):
        check_gradebook(load_config(folder))
    assert not (folder / "gradebook.db").exists()  # nbgrader's Gradebook would have made an empty one
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(ConfigError, match="holds no nbgrader gradebook"):
        check_gradebook(load_config(folder, db_url=f"sqlite:///{empty}"))


def test_a_wrong_course_id_and_an_unreachable_server_are_clear_errors(tmp_path, monkeypatch):
    import os
    import sys

    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    folder = course_folder(tmp_path)
    with Gradebook(load_config(folder).db_url, course_id="attune"):
        pass
    check_gradebook(load_config(folder))
    with pytest.raises(ConfigError, match=r"no course 'counselling-2027' \(it has: 'attune'\).*--course-id"):
        check_gradebook(load_config(folder, course_id="counselling-2027"))
    unreachable = "postgresql+psycopg://grader:s3cret@127.0.0.1:1/gradebook"
    with pytest.raises(ConfigError, match="cannot open the gradebook") as caught:
        check_gradebook(load_config(folder, db_url=unreachable))
    assert "s3cret" not in str(caught.value) and masked_url(unreachable) in str(caught.value)
