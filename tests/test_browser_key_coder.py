"""An instructor keys a whole session (150 listener turns) with the KeyCoder in a real JupyterLab in headless
Chromium (issue 14): by keyboard and by mouse, across pages; the key file holds exactly what was keyed, and a
restarted kernel resumes from it. Prints the timings (pytest -s shows them)."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import nbformat
import pytest
import yaml
from labdriver import Lab, accessibility_violations, jupyterlab, shutdown_sessions, wait_for_file
from nbformat.v4 import new_code_cell, new_notebook

from autograder.authoring.build import NOTEBOOK_METADATA
from autograder.authoring.course_folder import init_course
from course.rubric import load_rubric

pytestmark = pytest.mark.browser

TRANSCRIPT = "load-session"
TURNS = 150
CELL = f'from course.widgets import KeyCoder\nKeyCoder("{TRANSCRIPT}", key_path="keys/{TRANSCRIPT}.yaml")'


def write_session(course: Path) -> None:
    """An invented session: 150 short client turns, each answered by a listener turn."""
    turns = []
    for n in range(1, TURNS + 1):
        turns += [{"id": f"C{n}", "speaker": "client", "text": f"Client turn {n}: something happened this week."},
                  {"id": f"T{n}", "speaker": "therapist", "text": f"Listener turn {n}: tell me more about that."}]
    transcript = {"id": TRANSCRIPT, "title": "A long session (load test)", "tier": "advanced", "client": "Sam",
                  "therapist": "Counsellor", "context": "An invented session of 150 exchanges, for a load test.",
                  "turns": turns}
    (course / "content" / "transcripts" / f"{TRANSCRIPT}.yaml").write_text(
        yaml.safe_dump(transcript, sort_keys=False), encoding="utf-8")
    nbformat.write(new_notebook(cells=[new_code_cell(CELL)], metadata=NOTEBOOK_METADATA), course / "keying.ipynb")


def key_in_file(path: Path) -> dict:
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("turns") or {} if path.exists() else {}


def seconds_until(condition, start: float, timeout: float = 30) -> float:
    """Seconds from ``start`` until ``condition()`` holds, polled every 10 ms (fine enough to time a save)."""
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the key file never changed")
        time.sleep(0.01)
    return time.perf_counter() - start


def run_until_shown(lab: Lab) -> float:
    """Run the KeyCoder cell; the seconds from Shift+Enter to the first page of turns on screen."""
    cell = lab.cell(0)
    cell.locator(".jp-InputPrompt").first.click()
    lab.page.keyboard.press("Escape")
    start = time.perf_counter()
    lab.page.keyboard.press("Shift+Enter")
    cell.get_by_label("T1 behaviour code", exact=True).wait_for(state="visible", timeout=60_000)
    seconds = time.perf_counter() - start
    lab.wait_idle()
    return seconds


def test_an_instructor_keys_a_long_session_across_pages_and_resumes(tmp_path: Path, browser) -> None:
    course = init_course(tmp_path / "c")
    write_session(course)
    key = course / "keys" / f"{TRANSCRIPT}.yaml"
    codes = load_rubric().code_ids  # the shipped rubric: the course has no rubric of its own
    scratch = tmp_path / "jupyter"
    scratch.mkdir()
    timings: dict[str, list[float]] = {"render": [], "record": [], "page": []}
    with jupyterlab(course, scratch) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            lab = Lab(page, base, token)
            lab.open("keying.ipynb")
            coder = lab.cell(0)

            timings["render"].append(run_until_shown(lab))
            page.get_by_text("0 of 150 turns keyed.").wait_for()
            assert coder.locator(".attune-keycoder select").count() == 2 * 10 + 1  # one page of 10, and the pager
            assert accessibility_violations(page, ".attune-keycoder") == []
            labels = coder.locator(".attune-keycoder select, .attune-keycoder textarea").evaluate_all(
                "els => els.map(e => e.labels.length === 1 ? e.labels[0].textContent : null)")
            assert None not in labels and "T10 rationale" in labels, labels

            # T1 by keyboard alone: first code, level 3 by its digit, a rationale, Tab out (that saves it).
            coder.get_by_label("T1 behaviour code", exact=True).focus()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Tab")
            page.keyboard.press("3")
            page.keyboard.press("Tab")
            page.keyboard.type("Open question that follows the client.")
            page.keyboard.press("Tab")
            wait_for_file(key, lambda _t: key_in_file(key).get("T1", {}).get("why"))

            # T2 to T4 by mouse; each choice is timed from the select to the file holding it.
            chosen = {"T1": (codes[0], 3, "Open question that follows the client.")}
            for n, turn in enumerate(("T2", "T3", "T4")):
                code, level, why = codes[n + 1], n + 2, f"Mouse-keyed rationale for {turn}."
                for name, index, value, field in (("behaviour code", 1 + codes.index(code), code, "code"),
                                                  ("empathy level", level, level, "empathy")):
                    control = coder.get_by_label(f"{turn} {name}", exact=True)
                    control.click()
                    start = time.perf_counter()
                    control.select_option(index=index)
                    timings["record"].append(seconds_until(lambda t=turn, f=field, v=value:
                                                           key_in_file(key).get(t, {}).get(f) == v, start))
                box = coder.get_by_label(f"{turn} rationale", exact=True)
                box.click()
                box.fill(why)
                coder.get_by_label(f"{turn} behaviour code", exact=True).click()  # leaving the box saves it
                page.keyboard.press("Escape")
                wait_for_file(key, lambda _t, t=turn, w=why: key_in_file(key).get(t, {}).get("why") == w)
                chosen[turn] = (code, level, why)
            page.get_by_text("4 of 150 turns keyed.").wait_for()

            # Next page by keyboard: the keyboard lands on the first control of the new page.
            coder.get_by_role("button", name="Next page").focus()
            start = time.perf_counter()
            page.keyboard.press("Enter")
            coder.get_by_label("T11 behaviour code", exact=True).wait_for(state="visible")
            timings["page"].append(time.perf_counter() - start)
            page.wait_for_function("() => document.activeElement?.labels?.[0]?.textContent === 'T11 behaviour code'")
            assert coder.get_by_label("T1 behaviour code", exact=True).count() == 0
            page.keyboard.press("End")  # the last code of the rubric
            page.keyboard.press("Tab")
            page.keyboard.press("2")
            page.keyboard.press("Tab")
            page.keyboard.type("Keyed on the second page by keyboard.")
            page.keyboard.press("Tab")
            chosen["T11"] = (codes[-1], 2, "Keyed on the second page by keyboard.")
            wait_for_file(key, lambda _t: key_in_file(key).get("T11", {}).get("why"))

            # Back by mouse, then "Next turn to key": the first turn after this page not keyed yet (T12).
            coder.get_by_role("button", name="Previous page").click()
            coder.get_by_label("T1 behaviour code", exact=True).wait_for(state="visible")
            assert coder.get_by_label("T4 behaviour code", exact=True).evaluate(
                "s => s.options[s.selectedIndex].value") != ""
            coder.get_by_role("button", name="Next turn to key").click()
            page.wait_for_function("() => document.activeElement?.labels?.[0]?.textContent === 'T12 behaviour code'")
            page.get_by_text("5 of 150 turns keyed.").wait_for()

            start = time.perf_counter()
            coder.get_by_label("Page", exact=True).select_option(label="15 of 15: T141–T150")
            coder.get_by_label("T150 behaviour code", exact=True).wait_for(state="visible")
            timings["page"].append(time.perf_counter() - start)
            control = coder.get_by_label("T150 empathy level", exact=True)
            control.click()
            start = time.perf_counter()
            control.select_option(index=5)
            timings["record"].append(seconds_until(lambda: key_in_file(key).get("T150", {}).get("empathy") == 5,
                                                   start))
            page.get_by_text("T150: no behaviour code, no rationale (why)").wait_for()

            expected = {t: {"code": c, "empathy": lvl, "why": w} for t, (c, lvl, w) in chosen.items()}
            expected["T150"] = {"empathy": 5}
            assert key_in_file(key) == expected
            assert list(key_in_file(key)) == ["T1", "T2", "T3", "T4", "T11", "T150"]
            assert key.read_text(encoding="utf-8").startswith(f"transcript: {TRANSCRIPT}\nturns:\n  T1:\n")

            # A fresh kernel and Run All: the widget resumes from the file, on the page of the first turn to key.
            lab.save()
            lab.restart_and_run_all()
            page.get_by_text("5 of 150 turns keyed.").wait_for(timeout=60_000)
            page.get_by_text("T150: no behaviour code, no rationale (why)").wait_for()
            shown = coder.get_by_label("T4 behaviour code", exact=True).evaluate(
                "s => s.options[s.selectedIndex].text")
            assert shown.replace("\xa0", " ").startswith(f"{chosen['T4'][0]} · "), shown
            assert coder.get_by_label("T4 rationale", exact=True).input_value() == chosen["T4"][2]
            assert key_in_file(key) == expected  # running it again changed nothing

            # Closed and opened again on a new kernel: the same.
            lab.close_and_forget_kernels()
            lab.open("keying.ipynb")
            timings["render"].append(run_until_shown(lab))
            lab.cell(0).get_by_text("5 of 150 turns keyed.").wait_for()
            page.screenshot(path=str(tmp_path / "key-coder.png"), full_page=True)
        finally:
            page.close()
            shutdown_sessions(base, token)
    report = {name: [round(v, 3) for v in values] for name, values in timings.items()}
    print("\nKeyCoder timings (s), 150 listener turns, 10 per page:", json.dumps(report))
    print(f"  render (cell run to first page): {max(timings['render']):.2f} max; record (select to file): "
          f"median {statistics.median(timings['record']):.3f}, max {max(timings['record']):.3f}; page change: "
          f"max {max(timings['page']):.3f}")
    assert max(timings["record"]) < 5 and max(timings["render"]) < 30
