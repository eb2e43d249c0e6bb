"""A real JupyterLab server and a headless Chromium page on it, for browser tests.

Playwright drives Debian's /usr/bin/chromium (Playwright cannot download browsers on our machines).
See shared notes "browser-testing" for the selectors and the flags.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ATTUNE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium; browser tests must run in CI")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs these tests")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scratch_environment(scratch: Path) -> dict[str, str]:
    """The process environment with every Jupyter user folder in ``scratch`` (nothing of the machine's user is
    read or written), and no "get notified about Jupyter news?" toast over the notebook (it can cover controls)."""
    folders = {"JUPYTER_CONFIG_DIR": "config", "JUPYTERLAB_SETTINGS_DIR": "settings",
               "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTER_DATA_DIR": "data"}
    news = scratch / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True, exist_ok=True)
    news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return {**os.environ, **{name: str(scratch / folder) for name, folder in folders.items()}}


def server_options(port: int, token: str) -> list[str]:
    """What every test server adds: its port and token, no browser, no news or update checks."""
    return ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


@contextlib.contextmanager
def served(command: list[str], env: dict[str, str], cwd: Path, scratch: Path, port: int,
           token: str) -> Iterator[tuple[str, str]]:
    """Run a Jupyter server command until ``/api/status`` answers; yield (base_url, token); stop its process
    group at the end."""
    log = open(scratch / "jupyterlab.log", "w")
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(scratch / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, token
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@contextlib.contextmanager
def jupyterlab(root: Path, scratch: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """Start `jupyter lab` serving ``root``; yield (base_url, token); stop it (process group) at the end.

    ``env`` adds to or overrides the server's environment, which its kernels inherit (e.g. JUPYTER_DATA_DIR).
    """
    port, token = _free_port(), secrets.token_hex(16)
    environ = {**scratch_environment(scratch),
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]), **(env or {})}
    command = [sys.executable, "-m", "jupyter", "lab", *server_options(port, token), "--allow-root",
               f"--ServerApp.root_dir={root}"]
    with served(command, environ, root, scratch, port, token) as server:
        yield server


def shutdown_sessions(base: str, token: str) -> None:
    """Closing a page leaves kernels running; stop them so the next case starts fresh."""
    with urllib.request.urlopen(f"{base}/api/sessions?token={token}") as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request).close()


class Lab:
    """Small verbs on a notebook page, scoped to the visible notebook panel."""

    def __init__(self, page, base: str, token: str):
        self.page, self.base, self.token = page, base, token

    def open(self, notebook: str) -> None:
        workspace = "t" + secrets.token_hex(4)
        self.page.goto(f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}")
        self.page.locator(f"{PANEL} .jp-Notebook").wait_for(timeout=60_000)
        # Right after the server starts, JupyterLab may not know the kernel specs yet and asks which kernel to
        # start (seen under load); the notebook names python3, which is what "Select" starts.
        # The status bar can say Idle while that dialog is open (no kernel yet), so wait for the server to
        # report a kernel for this notebook, answering the dialog if it comes.
        ask = self.page.locator(".jp-Dialog", has_text="Select Kernel")
        deadline = time.monotonic() + 90
        while not self.has_kernel(notebook):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no kernel started for {notebook}")
            if ask.count():
                ask.locator(".jp-mod-accept").click()
            time.sleep(0.3)
        self.wait_idle()

    def has_kernel(self, notebook: str) -> bool:
        """The server has a session with a kernel for this notebook."""
        with urllib.request.urlopen(f"{self.base}/api/sessions?token={self.token}") as r:
            sessions = json.load(r)
        return any(s.get("path") == notebook and s.get("kernel") for s in sessions)

    def cell(self, index: int):
        return self.page.locator(f"{PANEL} .jp-Notebook .jp-Cell").nth(index)

    def wait_idle(self, timeout: float = 90_000) -> None:
        self.page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=timeout)
        deadline = time.monotonic() + timeout / 1000
        while self.page.locator(f"{PANEL} .jp-InputPrompt:has-text('[*]')").count():
            if time.monotonic() > deadline:
                raise TimeoutError("cells still running")
            time.sleep(0.2)

    def run_cell(self, index: int) -> None:
        """Run one cell and wait until it has run. A Shift+Enter sent while JupyterLab is still settling is
        sometimes lost (seen in CI and locally), so it is sent again if the prompt never showed [*]."""
        cell = self.cell(index)
        prompt = cell.locator(".jp-InputPrompt").first
        for _attempt in range(2):
            dialog = self.page.locator(".jp-Dialog")
            if dialog.count():
                raise RuntimeError(f"a dialog is open: {' '.join(dialog.first.inner_text().split())}")
            cell.scroll_into_view_if_needed()
            # The prompt turns to [*] while the cell is queued or running, however briefly: watch for it.
            prompt.evaluate("""el => { el.dataset.ran = '';
                new MutationObserver(() => { if (el.textContent.includes('*')) el.dataset.ran = 'yes'; })
                  .observe(el, {subtree: true, childList: true, characterData: true}); }""")
            prompt.click()
            self.page.keyboard.press("Escape")
            self.page.keyboard.press("Shift+Enter")
            time.sleep(0.3)
            self.wait_idle()
            if prompt.evaluate("el => el.dataset.ran") == "yes":
                return
        raise TimeoutError(f"cell {index} did not run (prompt {prompt.inner_text()!r})")

    def save(self) -> None:
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Control+s")

    def close_and_forget_kernels(self) -> None:
        """The learner closes the notebook and comes back later: leave the page, stop every kernel."""
        self.page.goto("about:blank")
        shutdown_sessions(self.base, self.token)

    def replace_cell_text(self, index: int, text: str) -> None:
        """Select all of a cell's text and put ``text`` in its place as one input (as a paste does: no
        auto-indent, no auto-closed brackets)."""
        editor = self.cell(index).locator(".cm-content").first
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def run_all(self) -> None:
        """Run > Run All Cells, and wait until every cell has run (errors do not stop the rest)."""
        not_run = self.page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt:text-is('[ ]:')")
        before = not_run.count()
        for _attempt in range(3):  # a menu click sent while JupyterLab settles can be lost, like a Shift+Enter
            self._menu("Run", "Run All Cells")
            deadline = time.monotonic() + 15
            while not_run.count() == before and before and time.monotonic() < deadline:
                time.sleep(0.3)
            if not_run.count() != before or not before:
                break
        running = self.page.locator(f"{PANEL} .jp-InputPrompt:has-text('[*]')")
        self._wait_until_run(not_run, running)
        if not_run.count() and not running.count():
            # Seen in CI and under load: the run stopped part-way with no error and no dialog, the kernel idle
            # (queued executions dropped). Resume once from the first cell that did not run, and say so.
            print(f"run_all: resumed after the run stopped part-way ({self._state(not_run)})")
            not_run.first.click()
            self._menu("Run", "Run Selected Cell and All Below")
            self._wait_until_run(not_run, running)
        if not_run.count() or running.count():
            raise TimeoutError(f"Run All did not finish ({self._state(not_run)})")
        self.wait_idle(timeout=180_000)

    def _menu(self, menu: str, item: str) -> None:
        self.page.keyboard.press("Escape")
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text=item).first.click()

    def _wait_until_run(self, not_run, running, settle: float = 10, limit: float = 420) -> None:
        """Wait until no cell is left to run or running and the kernel is idle; or until the kernel has been idle
        for ``settle`` s with cells still unrun (the run stopped); or ``limit`` s in all (a loaded machine can
        take minutes). A queued cell's prompt can show [ ] rather than [*] for a while: a form that writes into
        its answer cell replaces the cells below while they wait (seen in JupyterLab 4.6), so the kernel's
        status decides whether work is still going on."""
        status = self.page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator").first
        start = time.monotonic()
        idle_since = None
        while time.monotonic() - start < limit:
            idle = status.get_attribute("data-status") == "idle" and not running.count()
            if idle and not not_run.count():
                return
            idle_since = (idle_since or time.monotonic()) if idle else None
            if idle_since and time.monotonic() - idle_since > settle:
                return
            time.sleep(0.3)

    def _state(self, not_run) -> str:
        """What the page shows when a run did not finish: a dialog, the kernel status, the last error."""
        dialog = self.page.locator(".jp-Dialog")
        status = self.page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator").first.get_attribute("data-status")
        errors = self.page.locator(f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        last = " ".join(errors.last.inner_text().split())[:300] if errors.count() else "none"
        running = self.page.locator(f"{PANEL} .jp-InputPrompt:has-text('[*]')").count()
        return (f"{not_run.count()} unrun, {running} running or queued; dialog: "
                f"{' '.join(dialog.first.inner_text().split()) if dialog.count() else 'none'}; kernel: {status}; "
                f"last error output: {last}")

    def restart_and_run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
        self.page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel and Run All Cells").click()
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        time.sleep(1.0)
        self.wait_idle()


def tab_to(page, text: str, presses: int = 40) -> None:
    """Press Tab until the focused element reads ``text`` (a keyboard user moving on to a button)."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == text:
            return
    raise AssertionError(f"{presses} presses of Tab never reached {text!r}")


def accessibility_violations(page, selector: str | dict) -> list[str]:
    """axe-core's violations inside ``selector`` (labels, names, roles, contrast, heading order...)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=selector)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} node(s), e.g. {v['nodes'][0]['html'][:160]})"
            for v in results.response["violations"]]


def wait_for_file(path: Path, predicate, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text and predicate(text):
            return text
        time.sleep(0.25)
    raise TimeoutError(f"{path} never satisfied the condition")


def copy_course(root: Path, dest: Path) -> Path:
    for name in ("nbgrader_config.py",):
        shutil.copy2(root / name, dest / name)
    for folder in ("solutions", "exercises", "course/lessons"):
        shutil.copytree(root / folder, dest / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dest


def cell_index(notebook: Path, cell_id: str) -> int:
    """The position of a cell (markdown cells count) in a notebook file, by its id."""
    cells = json.loads(notebook.read_text())["cells"]
    return [c.get("id") for c in cells].index(cell_id)


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium, headless, through Playwright (skipped where it is missing, failed in CI)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def lab_on_a_course_copy(tmp_path: Path, browser, env: dict[str, str] | None = None) -> Iterator[tuple[Path, Lab]]:
    """A scratch copy of the course served by a real JupyterLab, and one browser page on it; all closed after."""
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "course-root").mkdir()
    course = copy_course(root, tmp_path / "course-root")
    scratch = tmp_path / "jupyter"
    scratch.mkdir()
    with jupyterlab(course, scratch, env) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            yield course, Lab(page, base, token)
        finally:
            page.close()
            shutdown_sessions(base, token)
