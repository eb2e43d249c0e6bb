"""The grading sandbox (autograder/adapters/sandbox.py): how its command is built, that it refuses loudly where it
cannot start, and that honest work gets the same grades with it as without it.

The escape attempts of hostile code are in test_sandbox_escapes.py; test_hostile.py, test_nbgrader_pipeline.py and
the hub's test run with the sandbox on, as every course does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_course
from test_hostile import EXERCISE, NOTEBOOK, PARTS, attune, correct, gradebook, literal, partial, with_sources

from autograder.adapters.sandbox import CONNECTION_FILE, GradingSandbox, sandbox_command
from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from autograder.static.notebooks import RECORD_KEY


def _mounts(args: list[str]) -> list[tuple[str, str]]:
    """(option, destination) of every mount in a bwrap command line, in order."""
    found = []
    for i, arg in enumerate(args):
        if arg in ("--ro-bind", "--bind", "--ro-bind-try"):
            found.append((arg, args[i + 2]))
        elif arg in ("--tmpfs", "--dir"):
            found.append((arg, args[i + 1]))
    return found


def test_the_command_shows_the_kernel_only_the_system_python_and_a_copy_of_its_folder(tmp_path):
    workdir, connection = tmp_path / "autograded" / "ana" / EXERCISE, str(tmp_path / "private" / "kernel.json")
    args = sandbox_command(GradingSandbox(), ["python", "-m", "ipykernel_launcher", "-f", connection],
                           str(workdir), str(workdir), connection)
    mounts = _mounts(args)
    writable = [dest for option, dest in mounts if option in ("--bind", "--tmpfs")]
    assert writable == ["/tmp", str(workdir)]  # two size-limited tmpfs: nothing of the machine's disks
    assert ("--ro-bind", str(workdir)) not in mounts and ("--ro-bind", "/attune/submission") in mounts
    assert ("--ro-bind", CONNECTION_FILE) in mounts and connection not in args[args.index("--") + 1:]
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "--clearenv"} <= set(args)
    # A tmpfs hides what was mounted below it before: /tmp comes before every folder that may lie under it.
    assert [d for _, d in mounts].index("/tmp") < [d for _, d in mounts].index(str(workdir))
    # The repository root (it holds solutions/ and the gradebook) is never bound, only its package folders.
    bound = {dest for option, dest in mounts if option == "--ro-bind"}
    assert str(ROOT) not in bound and not any(d.startswith(str(ROOT / "solutions")) for d in bound)
    assert {str(ROOT / "autograder"), str(ROOT / "course")} <= bound or "site-packages" in str(
        Path(sys.modules["autograder"].__file__))
    assert args[-5:] == ["python", "-m", "ipykernel_launcher", "-f", CONNECTION_FILE]


def test_the_sandbox_starts_here_and_a_missing_bwrap_is_named_with_what_to_do():
    assert GradingSandbox().check() == ""
    refusal = GradingSandbox(bwrap="/nonexistent/bwrap").check()
    assert "bubblewrap" in refusal and "apt-get install bubblewrap" in refusal and "--static" in refusal


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    """Three honest trainees graded by plain `nbgrader autograde`, in three copies of one course: sandboxed (the
    default), opted out by name, and with bubblewrap missing."""
    root = tmp_path_factory.mktemp("sandbox")
    course = make_course(root)
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    released = json.loads((course / "exercises" / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
    answers = {"ana": {v: literal(v, correct(v)) for v in PARTS}, "ben": {v: literal(v, partial(v)) for v in PARTS},
               "cleo": {}}
    for student, sources in answers.items():
        folder = course / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_bytes(with_sources(sources)(released))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    copies = {"sandboxed": course}
    for name, line in (("unsandboxed", "c.GradingSandbox.run_unsandboxed = True"),
                       ("no-bwrap", "c.GradingSandbox.bwrap = '/nonexistent/bwrap'")):
        copies[name] = root / name
        shutil.copytree(course, copies[name])
        with open(copies[name] / "nbgrader_config.py", "a") as config:
            config.write(f"\n{line}\n")
    runs = {name: subprocess.run([sys.executable, "-m", "nbgrader", "autograde", EXERCISE], cwd=folder,
                                 env=nbgrader_env(), capture_output=True, text=True, timeout=900)
            for name, folder in copies.items()}
    for name in ("sandboxed", "unsandboxed"):
        run_nbgrader(["generate_feedback", EXERCISE], cwd=copies[name])
    return copies, runs


def _without_run_details(nb: dict) -> dict:
    """An autograded notebook without what differs between any two runs (execution times, widget model ids, which
    are random, and the sandbox flag)."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        for output in cell.get("outputs", []):
            output.get("data", {}).get("application/vnd.jupyter.widget-view+json", {}).pop("model_id", None)
    nb["metadata"].get(RECORD_KEY, {}).pop("sandboxed", None)
    nb["metadata"].pop("widgets", None)
    return nb


@pytest.mark.nbgrader
def test_honest_work_gets_the_same_grades_notebooks_and_feedback_with_the_sandbox_as_without(cohorts):
    copies, runs = cohorts
    assert runs["sandboxed"].returncode == 0, runs["sandboxed"].stderr[-3000:]
    assert runs["unsandboxed"].returncode == 0, runs["unsandboxed"].stderr[-3000:]
    on, off = copies["sandboxed"], copies["unsandboxed"]
    assert gradebook(on) == gradebook(off)
    assert len({row for row in gradebook(on) if row[0] == "ana"}) >= len(PARTS)
    for student in ("ana", "ben", "cleo"):
        path = Path("autograded") / student / EXERCISE / f"{NOTEBOOK}.ipynb"
        sandboxed, unsandboxed = json.loads((on / path).read_text()), json.loads((off / path).read_text())
        assert sandboxed["metadata"][RECORD_KEY]["sandboxed"] is True
        assert unsandboxed["metadata"][RECORD_KEY]["sandboxed"] is False
        assert _without_run_details(sandboxed) == _without_run_details(unsandboxed), student
        feedback = Path("feedback") / student / EXERCISE / f"{NOTEBOOK}.html"
        assert (on / feedback).read_text() == (off / feedback).read_text(), student
    compared = [attune("grade", EXERCISE, "--compare", "--quiet", cwd=folder) for folder in (on, off)]
    assert compared[0].returncode == compared[1].returncode and compared[0].stdout == compared[1].stdout.replace(
        str(off), str(on))


@pytest.mark.nbgrader
def test_the_report_says_when_a_cohort_was_graded_unsandboxed(cohorts):
    copies, _ = cohorts
    said = {}
    for name in ("sandboxed", "unsandboxed"):
        done = attune("report", "--no-feedback", cwd=copies[name])
        assert done.returncode == 0, done.stderr
        said[name] = (done.stderr, (copies[name] / "report" / "report.html").read_text())
    assert "WITHOUT the grading sandbox" not in said["sandboxed"][0] + said["sandboxed"][1]
    stderr, page = said["unsandboxed"]
    assert "3 notebook(s) were graded WITHOUT the grading sandbox" in stderr
    assert "WITHOUT the grading sandbox" in page and f"ana/{EXERCISE}/{NOTEBOOK}" in page


@pytest.mark.nbgrader
def test_without_bubblewrap_autograde_stops_before_any_submission_and_says_what_to_do(cohorts):
    copies, runs = cohorts
    course, done = copies["no-bwrap"], runs["no-bwrap"]
    assert done.returncode != 0
    assert "apt-get install bubblewrap" in done.stdout + done.stderr and "--static" in done.stdout + done.stderr
    assert not (course / "autograded").exists()
    assert gradebook(course) == {}  # no submission was even registered
    graded = attune("grade", EXERCISE, "--quiet", cwd=course)
    assert graded.returncode == 1 and graded.stderr.startswith("attune grade: executed grading runs every")
    assert not (course / "autograded").exists()
    # Static grading runs nothing, so it needs no sandbox.
    assert attune("grade", EXERCISE, "--static", "--quiet", cwd=course).returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop applies when grading runs as root")
def test_as_root_the_kernel_runs_as_an_unprivileged_user(tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "note.txt").write_text("beside the notebook")
    command = sandbox_command(GradingSandbox(), [sys.executable, "-c", (
        "import os; print(os.getuid(), open('note.txt').read(), os.path.exists('/attune/submission'), "
        "sorted(os.listdir('/root')))")], str(tmp_path / "work"), str(source))
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    uid, *rest = done.stdout.split(" ", 1)
    assert uid == "65534" and "beside the notebook" in rest[0]
    assert ".bashrc" not in done.stdout and ".ssh" not in done.stdout  # the grader's home is not there
