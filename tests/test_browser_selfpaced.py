"""In a real JupyterLab in headless Chromium, started exactly as `attune lab` starts it: a self-paced learner sees
lesson 0 first, none of nbgrader's tools (no Formgrader, Create Assignment, Course List, Assignment List, Validate),
and notebooks that are not marked unsaved as they open. `attune lab --instructor` keeps every nbgrader tool."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT
from labdriver import (
    PANEL,
    Lab,
    _free_port,
    copy_course,
    scratch_environment,
    served,
    server_options,
    shutdown_sessions,
)

from autograder.cli import FIRST_LESSON, lab_server

pytestmark = pytest.mark.browser

EXERCISE = "exercises/ex01/hearing-the-concern.ipynb"
# What nbgrader adds to JupyterLab (menu, palette, sidebar and main-area labels), all instructor or cohort tools.
NBGRADER_LABELS = ("Formgrader", "Create Assignment", "Create assignment", "Course List", "Assignment List",
                   "Nbgrader")


@contextlib.contextmanager
def attune_lab(course: Path, scratch: Path, *, instructor: bool) -> Iterator[tuple[str, str]]:
    """`attune lab [--instructor]`'s own command and environment (autograder.cli.lab_server) on a course copy; only
    the port, the token, no browser, no news, and scratch user folders are added. Yields (base_url, token)."""
    port, token = _free_port(), secrets.token_hex(16)
    command, env = lab_server(course, server_options(port, token), instructor=instructor,
                              environ=scratch_environment(scratch))
    with served(command, env, course, scratch, port, token) as server:
        yield server


@pytest.fixture(scope="module")
def self_paced(tmp_path_factory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("self-paced")
    (tmp / "course-root").mkdir()
    (tmp / "jupyter").mkdir()
    with attune_lab(copy_course(ROOT, tmp / "course-root"), tmp / "jupyter", instructor=False) as server:
        yield server


@pytest.fixture
def lab(browser, self_paced) -> Iterator[Lab]:
    base, token = self_paced
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        yield Lab(page, base, token)
    finally:
        page.close()
        shutdown_sessions(base, token)


def menu_bar(page) -> list[str]:
    return [t.strip() for t in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]


def palette(page, query: str) -> list[str]:
    """Labels of the command palette's matches for ``query`` (the palette is closed again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    search = page.locator(".lm-CommandPalette-input")
    for _attempt in range(3):  # the modal palette closes when it loses focus (e.g. to a panel still settling)
        page.locator(".lm-MenuBar-itemLabel", has_text="View").click()
        page.locator(".lm-Menu-itemLabel", has_text="Command Palette").click()
        with contextlib.suppress(PlaywrightTimeout):
            search.fill(query, timeout=5_000)
            time.sleep(0.5)  # the palette redraws its list on the next animation frame
            labels = [t.strip() for t in page.locator(".lm-CommandPalette-itemLabel").all_inner_texts()]
            if search.is_visible() and search.input_value() == query:  # still open: the list is for this query
                search.press("Escape")
                return labels
    raise AssertionError(f"the command palette did not stay open to search for {query!r}")


def sidebars(page) -> list[str]:
    """Every side-panel tab: its label, its tooltip and the id of the panel it opens."""
    tabs = page.locator(".jp-SideBar .lm-TabBar-tab")
    return [" | ".join(filter(None, (tabs.nth(i).inner_text().strip(), tabs.nth(i).get_attribute("title"),
                                     tabs.nth(i).get_attribute("data-id")))) for i in range(tabs.count())]


def nbgrader_anywhere(page) -> list[str]:
    """Where nbgrader shows itself: the menu bar, the palette, the side panels, the visible notebook's toolbar."""
    found = [f"menu bar: {m}" for m in menu_bar(page) if m in NBGRADER_LABELS]
    for label in NBGRADER_LABELS:
        found += [f"palette: {hit}" for hit in palette(page, label) if label.lower() in hit.lower()]
    found += [f"side panel: {tab}" for tab in sidebars(page)
              if "nbgrader" in tab.lower() or any(label.lower() in tab.lower() for label in NBGRADER_LABELS)]
    found += ["notebook toolbar: Validate"] * page.locator(f"{PANEL} .jp-Toolbar .validate-button").count()
    found += [f"element #{i}" for i in page.locator("[id^='nbgrader'], #formgrader").evaluate_all(
        "nodes => nodes.map(n => n.id)")]
    return found


def wait_for_kernel(lab: Lab, notebook: str, timeout: float = 90) -> None:
    """The notebook has finished loading: its kernel runs, is idle, and the page is connected to it. (Before the
    kernel starts, the execution indicator already says idle, and JupyterLab flags the tab unsaved for a moment
    while it fills the document, for any notebook: neither is the state we check.)"""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{lab.base}/api/sessions?token={lab.token}") as r:
            if any(s["path"] == notebook and s["kernel"]["execution_state"] == "idle" for s in json.load(r)):
                break
        assert time.monotonic() < deadline, f"no idle kernel for {notebook}"
        time.sleep(0.2)
    lab.wait_idle()


def stays_clean(page, name: str, seconds: float = 3.0) -> bool:
    """After the kernel is idle, the notebook's tab never shows the unsaved marker for ``seconds``."""
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if "jp-mod-dirty" in (tab.first.get_attribute("class") or ""):
            return False
        time.sleep(0.2)
    return True


def _language_info(notebook: str) -> dict:
    return json.loads((ROOT / notebook).read_text())["metadata"].get("language_info", {})


def test_self_paced_lab_opens_lesson_0_without_nbgrader_tools_and_not_marked_unsaved(lab):
    page = lab.page
    page.goto(f"{lab.base}/?token={lab.token}")  # `attune lab`'s default URL: lesson 0
    page.locator(f"{PANEL} .jp-Notebook").wait_for(timeout=60_000)
    wait_for_kernel(lab, FIRST_LESSON.as_posix())
    assert page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current").inner_text().strip() == \
        FIRST_LESSON.name
    assert stays_clean(page, FIRST_LESSON.name), (
        f"{FIRST_LESSON} is marked unsaved as it opens: JupyterLab replaces metadata.language_info "
        f"{_language_info(FIRST_LESSON.as_posix())} with the kernel's (compare the file after a save)")
    assert nbgrader_anywhere(page) == []
    assert "Kernel" in menu_bar(page)  # the menus were there to look at


def test_self_paced_exercise_has_no_validate_button(lab):
    lab.open(EXERCISE)
    assert lab.page.locator(f"{PANEL} .jp-Toolbar .jp-ToolbarButtonComponent").count() > 3  # the toolbar is drawn
    assert nbgrader_anywhere(lab.page) == []


def test_self_paced_exercise_is_not_marked_unsaved_as_it_opens(lab):
    lab.open(EXERCISE)
    wait_for_kernel(lab, EXERCISE)
    assert stays_clean(lab.page, Path(EXERCISE).name)


def test_instructor_lab_keeps_every_nbgrader_tool(tmp_path, browser):
    (tmp_path / "course-root").mkdir()
    (tmp_path / "jupyter").mkdir()
    course = copy_course(ROOT, tmp_path / "course-root")
    with attune_lab(course, tmp_path / "jupyter", instructor=True) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            lab = Lab(page, base, token)
            lab.open(EXERCISE)
            found = nbgrader_anywhere(page)
            assert "menu bar: Nbgrader" in found
            assert "palette: Formgrader" in found
            assert any(f.startswith("palette: Course List") for f in found)
            assert any(f.startswith("palette: Assignment List") for f in found)
            assert any("nbgrader-create_assignemnt" in f for f in found if f.startswith("side panel"))
            assert "notebook toolbar: Validate" in found
            page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
            page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
            page.locator("#formgrader").wait_for(timeout=30_000)  # and it opens
        finally:
            page.close()
            shutdown_sessions(base, token)
