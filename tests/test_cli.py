"""The README's first command: `attune lab` serves the course folder and opens the first lesson; a self-paced
learner gets none of nbgrader's tools, `attune lab --instructor` all of them."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

from autograder.cli import SELF_PACED_CONFIG, lab_command, lab_server, main

# nbgrader 0.9's JupyterLab plugins: all of them are instructor or cohort tools.
NBGRADER_LAB_PLUGINS = {"@jupyter/nbgrader:menu", "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                        "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list",
                        "@jupyter/nbgrader:validate-assignment"}


def _page_config(html: str) -> dict:
    """The page config JupyterLab's /lab page hands its front end (the merged labconfig/page_config.json)."""
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no jupyter-config-data in the /lab page"
    return json.loads(found.group(1))


@pytest.mark.parametrize("instructor", [False, True], ids=["self-paced", "instructor"])
def test_attune_lab_serves_the_course_root_with_the_right_nbgrader_tools(tmp_path, instructor):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    attune = Path(sys.executable).parent / "attune"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    flags = ["--instructor"] if instructor else []
    server = subprocess.Popen([str(attune), "lab", *flags, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
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
        with urllib.request.urlopen(f"{base}/?token={token}", timeout=5) as r:  # the default URL: lesson 0
            assert r.status == 200
            opened = urllib.parse.urlsplit(r.geturl()).path
            page_config = _page_config(r.read().decode())
        try:
            with urllib.request.urlopen(f"{base}/formgrader?token={token}", timeout=10) as r:
                formgrader = r.status
        except urllib.error.HTTPError as err:
            formgrader = err.code
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0]
    assert "/lab/tree/course/lessons/00-start-here.ipynb" in output or "00-start-here" in output
    assert opened == "/lab/tree/course/lessons/00-start-here.ipynb"
    disabled = set(page_config["disabledExtensions"])
    if instructor:  # every nbgrader tool, working from the course root
        assert formgrader == 200
        assert not {p for p in disabled if p.startswith("@jupyter/nbgrader")}
        assert "not a subdirectory of the notebook server root" not in output
        assert "instructor's view" in output
    else:  # none of them: nbgrader's lab plugins are disabled and its server extensions are off
        assert formgrader == 404
        assert NBGRADER_LAB_PLUGINS <= disabled
        assert "nbgrader" not in output
        assert "self-paced learner's view" in output


def _installed_nbgrader_lab_plugins() -> set[str]:
    import nbgrader

    bundle = Path(nbgrader.__file__).parent / "labextension" / "static"
    return {m for js in bundle.glob("*.js") for m in re.findall(r'"(@jupyter/nbgrader:[\w-]+)"', js.read_text())}


def test_the_self_paced_config_switches_off_every_nbgrader_plugin_and_server_extension():
    # Checked against the installed nbgrader, so that an nbgrader with a new plugin fails here.
    import nbgrader.server_extensions

    assert _installed_nbgrader_lab_plugins() == NBGRADER_LAB_PLUGINS
    page = json.loads((SELF_PACED_CONFIG / "labconfig" / "page_config.json").read_text())
    assert page == {"disabledExtensions": dict.fromkeys(NBGRADER_LAB_PLUGINS, True)}
    folder = Path(nbgrader.server_extensions.__file__).parent
    installed = {f"nbgrader.server_extensions.{d.name}" for d in folder.iterdir() if (d / "__init__.py").is_file()}
    server = json.loads((SELF_PACED_CONFIG / "jupyter_server_config.json").read_text())
    assert server == {"ServerApp": {"jpserver_extensions": dict.fromkeys(installed, False)}}


def test_lab_server_puts_its_config_first_for_its_own_server_only(tmp_path):
    root = tmp_path / "attune"
    (root / "course" / "lessons").mkdir(parents=True)
    (root / "course" / "lessons" / "00-start-here.ipynb").write_text("{}")
    own = {"PATH": "/usr/bin", "JUPYTER_CONFIG_PATH": "/srv/site-jupyter", "HOME": str(tmp_path)}
    command, env = lab_server(root, ["--no-browser"], environ=own)
    assert command == lab_command(root, ["--no-browser"])
    assert f"--ServerApp.root_dir={root}" in command
    assert "--LabApp.default_url=/lab/tree/course/lessons/00-start-here.ipynb" in command
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(SELF_PACED_CONFIG), "/srv/site-jupyter"]
    assert env["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    assert own["JUPYTER_CONFIG_PATH"] == "/srv/site-jupyter"  # the caller's environment is not changed
    _command, env = lab_server(root, [], environ={"PATH": "/usr/bin"})
    assert env["JUPYTER_CONFIG_PATH"] == str(SELF_PACED_CONFIG)
    _command, env = lab_server(root, [], instructor=True, environ=own)
    assert env["JUPYTER_CONFIG_PATH"] == "/srv/site-jupyter"
    _command, env = lab_server(root, [], instructor=True, environ={"PATH": "/usr/bin"})
    assert "JUPYTER_CONFIG_PATH" not in env


def test_page_config_merges_the_users_config_with_the_self_paced_one(tmp_path, monkeypatch):
    # jupyterlab_server merges labconfig/page_config.json over every config dir, front of JUPYTER_CONFIG_PATH first:
    # the user's own disabled plugins stay disabled, and nbgrader's are disabled even where the user enabled one.
    from jupyter_core.paths import jupyter_path
    from jupyterlab_server.config import get_page_config

    user = tmp_path / "user-config"
    (user / "labconfig").mkdir(parents=True)
    (user / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True, "@jupyter/nbgrader:formgrader": False}}))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(user))
    _command, env = lab_server(tmp_path, [])
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
    disabled = set(get_page_config(jupyter_path("labextensions"))["disabledExtensions"])
    assert disabled >= NBGRADER_LAB_PLUGINS | {"@jupyterlab/apputils-extension:announcements"}
    monkeypatch.delenv("JUPYTER_CONFIG_PATH")
    disabled = set(get_page_config(jupyter_path("labextensions"))["disabledExtensions"])
    assert "@jupyter/nbgrader:formgrader" not in disabled  # without it (--instructor), the user's config rules


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
    assert course_root(folder) == folder  # every command works on a course folder, the repository's or not


def test_attune_practice_opens_the_practice_notebook_and_gives_an_own_course_one(tmp_path):
    from autograder.cli import PRACTICE_NOTEBOOK, practice_notebook

    assert practice_notebook(ROOT) == PRACTICE_NOTEBOOK  # the shipped course's, in the repository
    command, env = lab_server(ROOT, [], first=practice_notebook(ROOT))
    assert f"--LabApp.default_url=/lab/tree/{PRACTICE_NOTEBOOK.as_posix()}" in command
    assert "JUPYTER_CONFIG_PATH" in env  # the self-paced learner's view: no nbgrader tools
    own = tmp_path / "own"
    own.mkdir()
    assert practice_notebook(own) == Path("practice.ipynb")
    copied = (own / "practice.ipynb").read_bytes()
    assert copied == (ROOT / PRACTICE_NOTEBOOK).read_bytes()
    (own / "practice.ipynb").write_text("mine")  # the learner's own copy is never overwritten
    assert practice_notebook(own) == Path("practice.ipynb") and (own / "practice.ipynb").read_text() == "mine"
