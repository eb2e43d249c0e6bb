"""The README's first command: `attune lab` serves the course folder and opens the first lesson."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import ROOT

from autograder.cli import main


def test_attune_lab_serves_the_course_root_with_nbgrader_working(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    attune = Path(sys.executable).parent / "attune"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    server = subprocess.Popen([str(attune), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                               f"--IdentityProvider.token={token}"], cwd=ROOT / "course", env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                url = f"{base}/api/contents/course/lessons/00-start-here.ipynb?content=0&token={token}"
                with urllib.request.urlopen(url, timeout=2) as r:
                    assert json.load(r)["type"] == "notebook"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "attune lab did not start"
                time.sleep(0.3)
        with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as r:
            assert r.status == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "/lab/tree/course/lessons/00-start-here.ipynb" in output or "00-start-here" in output
    assert "not a subdirectory of the notebook server root" not in output


def test_attune_validate_passes_on_the_course_content(capsys):
    assert main(["validate"]) == 0
    assert "ok  course/rubric.yaml" in capsys.readouterr().out


def test_attune_exercises_names_an_unknown_assignment(capsys):
    assert main(["exercises", "ex99"]) == 2
    assert "no solutions/ex99/" in capsys.readouterr().err


def test_grading_commands_find_an_instructors_course_folder_without_course(tmp_path):
    # On a JupyterHub the instructor's folder holds nbgrader_config.py, solutions/ and exercises/ only.
    from autograder.cli import course_root, grading_root

    folder = tmp_path / "attune"
    (folder / "solutions" / "ex01").mkdir(parents=True)
    (folder / "nbgrader_config.py").write_text("c = get_config()\n")
    assert grading_root(folder / "solutions" / "ex01") == folder
    assert course_root(folder) != folder  # lab/build/exercises still need the repository itself
