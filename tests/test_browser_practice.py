"""In a real JupyterLab in headless Chromium: a practice session answered by keyboard alone, feedback after each
item, then the kernel restarted and the page reloaded: the history is intact and the progress view draws it.
axe finds nothing wrong with the session or the progress view."""

from __future__ import annotations

import sqlite3
import time

import pytest
from labdriver import PANEL, accessibility_violations, chromium, lab_on_a_course_copy, tab_to

pytestmark = pytest.mark.browser
NOTEBOOK = "course/lessons/practice.ipynb"
SESSION, PROGRESS = 1, 3  # the practice cell and the progress cell (markdown cells count)
ANSWERED = 3
CONTENT = {"include": [[f"{PANEL} .jp-MarkdownOutput"], [f"{PANEL} .jp-OutputArea-output"]]}


def answer_by_keyboard(page, widget) -> str:
    """Answer the item on screen with keys only: the first option of each group (Space on a radio, ArrowDown on a
    list), Tab on to the Check button, Enter. Returns the item's text."""
    item = " ".join(widget.locator(".widget-html").nth(2).inner_text().split())
    groups = widget.locator(".widget-radio-box, select")
    for index in range(groups.count()):
        group = groups.nth(index)
        if group.evaluate("el => el.tagName") == "SELECT":
            group.focus()
            page.keyboard.press("ArrowDown")
        else:
            group.get_by_role("radio").first.focus()
            page.keyboard.press("Space")
    tab_to(page, "Check my answer")
    page.keyboard.press("Enter")
    widget.get_by_text("Why:").wait_for(timeout=30_000)
    return item


def attempts(database) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT attempt_id, item_id, correct FROM attempts ORDER BY rowid").fetchall()


def test_a_session_by_keyboard_survives_a_restart_and_a_reload_and_shows_progress(tmp_path):
    database = tmp_path / "history.sqlite3"  # where the kernel keeps the learner's history (ATTUNE_PRACTICE_DB)
    env = {"ATTUNE_LEARNER": "practice-test", "ATTUNE_PRACTICE_DB": str(database)}
    with chromium() as browser, lab_on_a_course_copy(tmp_path, browser, env=env) as (_course, lab):
        page = lab.page
        lab.open(NOTEBOOK)
        lab.run_cell(SESSION)
        widget = page.locator(f"{PANEL} .attune-widget").first
        widget.get_by_text("practice items; you have answered 0").wait_for(timeout=30_000)
        assert accessibility_violations(page, CONTENT) == []

        widget.get_by_role("button", name="Start practice").focus()
        page.keyboard.press("Enter")
        seen = []
        for number in range(1, ANSWERED + 1):
            widget.get_by_text(f"Item {number} of 10").wait_for(timeout=30_000)
            seen.append(answer_by_keyboard(page, widget))
            feedback = " ".join(widget.inner_text().split())
            assert ("Right." in feedback or "Not quite." in feedback) and "reference" in feedback
            if number == 1:
                assert accessibility_violations(page, CONTENT) == []  # the feedback too
            # The focus is on "Next item": Enter goes on.
            assert page.evaluate("() => document.activeElement.textContent") == "Next item"
            if number < ANSWERED:
                page.keyboard.press("Enter")
        assert len(set(seen)) == ANSWERED, "an item came twice in a row"
        recorded = attempts(database)
        assert len(recorded) == ANSWERED and len({r[0] for r in recorded}) == ANSWERED

        # The kernel restarted, the page reloaded: the history is still there, and the progress view draws it.
        page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
        page.locator(".lm-Menu-itemLabel", has_text="Restart Kernel…").first.click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        time.sleep(1.0)
        lab.wait_idle()
        page.reload()
        page.locator(f"{PANEL} .jp-Notebook").wait_for(timeout=60_000)
        lab.wait_idle()
        lab.run_cell(PROGRESS)
        view = page.locator(f"{PANEL} .jp-OutputArea-output").filter(has_text="Your practice progress").first
        view.wait_for(timeout=30_000)
        text = " ".join(view.inner_text().split())
        assert f"{ANSWERED} answers" in text
        assert view.locator("figure[role='img'] svg").count() >= 1
        assert view.locator("figcaption", has_text="Items mastered per tier").count() == 1
        lab.run_cell(SESSION)
        page.locator(f"{PANEL} .attune-widget").first.get_by_text(
            f"you have answered {ANSWERED} of them").wait_for(timeout=30_000)
        assert attempts(database) == recorded, "nothing lost or duplicated"
        assert accessibility_violations(page, CONTENT) == []
