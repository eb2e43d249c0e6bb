"""Every lesson and exercise notebook, run in a real JupyterLab, passes axe-core: its rendered text and its
widgets (the cells' markdown and outputs; JupyterLab's own chrome aside)."""

from __future__ import annotations

import time

import pytest
from conftest import ROOT
from labdriver import PANEL, accessibility_violations, chromium, lab_on_a_course_copy

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix() for p in
                   [*(ROOT / "course" / "lessons").glob("*.ipynb"), *(ROOT / "exercises").glob("*/*.ipynb")])
# What a learner reads and uses: rendered markdown and every output (widgets included).
CONTENT = {"include": [[f"{PANEL} .jp-MarkdownOutput"], [f"{PANEL} .jp-OutputArea-output"]]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with chromium() as browser, lab_on_a_course_copy(tmp_path_factory.mktemp("a11y"), browser) as (_course, lab):
        yield lab


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_content_passes_axe(lab, notebook):
    lab.open(notebook)
    lab.run_all()
    # The audit must see what the notebook shows when run (its forms and dialogues too), not an unrun page; on a
    # busy machine a widget can still be drawing when the last cell reports idle, so wait for it to appear.
    widgets = sum(text.count(name) for name in ("AnswerForm(", "ScenarioPlayer(")
                  for text in [(ROOT / notebook).read_text()])
    drawn = lab.page.locator(f"{PANEL} .attune-widget")
    for _attempt in range(2):  # a Run All sent while JupyterLab settles can be lost: send it once more
        deadline = time.monotonic() + 30
        while drawn.count() < min(widgets, 1) and time.monotonic() < deadline:
            time.sleep(0.3)
        if drawn.count() >= min(widgets, 1):
            break
        lab.run_all()
    assert lab.page.locator(f"{PANEL} .jp-OutputArea-output").count() > 0
    assert drawn.count() >= min(widgets, 1)
    time.sleep(1.0)  # let the last widget finish drawing: a half-built one is not what a learner meets
    violations = accessibility_violations(lab.page, CONTENT)
    lab.close_and_forget_kernels()
    assert violations == []
