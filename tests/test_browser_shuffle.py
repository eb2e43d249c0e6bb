"""In a real JupyterLab in headless Chromium: each learner sees a scenario's options in their own order, and the
same order again after Start again and after Restart Kernel and Run All Cells."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import ROOT
from labdriver import Lab, copy_course, jupyterlab, shutdown_sessions

from course.learner import ENV_VAR
from course.scenario import Scenario, load_scenario

pytestmark = pytest.mark.browser
LESSON = "course/lessons/01-hearing-the-concern.ipynb"
SCENARIO = "mateus-first-term"
# Pinned through the id file the kernel reads (course.learner), chosen with course.scenario.option_order on
# mateus-first-term's all-strong path p1, p2-open, p3-family, p4-lonely:
#   trainee-6 sees the strong option at positions 2, 2, 1, 2 (it moves, and it is last at the first decision, so
#             "same order after a restart" is not satisfied by the authoring order by accident);
#   trainee-1 sees it at 1, 1, 0, 1, with first-decision order [1, 0, 2] against trainee-6's [2, 1, 0].
# (An id like trainee-4 would not do: its strong option is first at all four, as for about 1 learner in 27.)
LEARNER, OTHER_LEARNER = "trainee-6", "trainee-1"


def strong_text(scenario: Scenario, node: str) -> str:
    return next(o.text for o in scenario.nodes[node].options if o.kind == "strong")


def shown_options(widget, expected: set[str], timeout: float = 30) -> list[str]:
    """The option labels top to bottom, once the player shows the decision whose options are ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        labels = [t.strip() for t in widget.locator(".widget-radio-box label").all_inner_texts()]
        if set(labels) == expected and len(labels) == len(expected):
            return labels
        if time.monotonic() > deadline:
            raise TimeoutError(f"the player shows {labels}, not the options {sorted(expected)}")
        time.sleep(0.1)


def play_strong(widget, scenario: Scenario) -> tuple[list[str], list[list[str]]]:
    """Say the strong option at every decision (found by its text); return the nodes and the orders shown."""
    nodes, orders, node = [], [], scenario.start
    while not scenario.nodes[node].end:
        options = scenario.nodes[node].options
        order = shown_options(widget, {o.text for o in options})
        nodes.append(node)
        orders.append(order)
        strong = strong_text(scenario, node)
        widget.get_by_role("radio", name=strong, exact=True).check()
        widget.get_by_role("button", name="Say this").click()
        node = next(o.next for o in options if o.kind == "strong")
        assert len(nodes) <= 10, "the scenario never ended"
    widget.locator("h4", has_text="Debrief").wait_for()
    return nodes, orders


def test_each_learner_has_their_own_stable_option_order(tmp_path: Path, browser, monkeypatch: pytest.MonkeyPatch):
    # The learner comes from the id file in the kernel's Jupyter data folder, as for a real trainee: an
    # ATTUNE_LEARNER in the environment running the tests would override it, so none is passed on.
    monkeypatch.delenv(ENV_VAR, raising=False)
    scenario = load_scenario(SCENARIO)
    first_texts = {o.text for o in scenario.nodes[scenario.start].options}
    cells = json.loads((ROOT / LESSON).read_text())["cells"]
    scenario_cell = [c.get("id") for c in cells].index("scenario")
    (tmp_path / "course-root").mkdir()
    course = copy_course(ROOT, tmp_path / "course-root")
    scratch, data = tmp_path / "jupyter", tmp_path / "jupyter-data"
    scratch.mkdir()
    id_file = data / "attune" / "learner-id"
    id_file.parent.mkdir(parents=True)
    id_file.write_text(LEARNER + "\n")

    with jupyterlab(course, scratch, env={"JUPYTER_DATA_DIR": str(data)}) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            lab = Lab(page, base, token)
            lab.open(LESSON)
            lab.run_cell(scenario_cell)
            widget = lab.cell(scenario_cell).locator(".attune-widget")

            nodes, orders = play_strong(widget, scenario)
            positions = [order.index(strong_text(scenario, node)) for node, order in zip(nodes, orders, strict=True)]
            assert len(nodes) >= 3
            assert len(set(positions)) > 1, f"the strong option is always at position {positions[0]}: {orders}"

            widget.get_by_role("button", name="Start again").click()
            assert shown_options(widget, first_texts) == orders[0]

            lab.restart_and_run_all()   # a fresh kernel reads the learner's id from the file again
            widget = lab.cell(scenario_cell).locator(".attune-widget")
            assert shown_options(widget, first_texts) == orders[0]

            # Another learner: the same server, their id in the file, a fresh kernel to read it.
            id_file.write_text(OTHER_LEARNER + "\n")
            lab.restart_and_run_all()
            widget = lab.cell(scenario_cell).locator(".attune-widget")
            other_nodes, other_orders = play_strong(widget, scenario)
            assert other_nodes == nodes   # the same path, only the order on screen differs
            assert any(a != b for a, b in zip(orders, other_orders, strict=True)), orders
        finally:
            page.close()
            shutdown_sessions(base, token)
