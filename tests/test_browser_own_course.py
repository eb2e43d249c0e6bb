"""A trainee of a course of one's own, in a real JupyterLab in headless Chromium (issue 13).

The trainee has only the installed package and the released exercise folder: the form must find the course's own
transcript and rubric in the content/ folder released beside the notebook, offer the rubric's own codes and 1-7
scale, and the answers must reach the saved file; the self-check works and shows no key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from labdriver import Lab, cell_index, jupyterlab, shutdown_sessions, wait_for_file
from test_own_course import attune, make_course

pytestmark = pytest.mark.browser

CHOICES = {"T1": ("QO", 5), "T2": ("RF", 4), "T3": ("RD", 7), "T4": ("DI", 1)}  # the key's answers


def answer_source(notebook_text: str) -> str:
    cell = next(c for c in json.loads(notebook_text)["cells"] if c.get("id") == "answers-joao")
    return "".join(cell["source"])


def test_a_trainee_codes_an_own_course_exercise_with_its_own_rubric(tmp_path: Path, browser) -> None:
    course = make_course(tmp_path, own_rubric=True, include="")
    attune("build", cwd=course)
    attune("exercises", cwd=course)
    home = tmp_path / "trainee-home"  # what a trainee has: the fetched exercise folder, nothing of the course
    shutil.copytree(course / "exercises" / "week1", home / "week1")
    notebook = home / "week1" / "week-one.ipynb"
    form_cell, answer_cell, check_cell = (cell_index(notebook, f"{name}-joao") for name in ("form", "answers", "check"))
    scratch = tmp_path / "jupyter"
    scratch.mkdir()
    with jupyterlab(home, scratch) as (base, token):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            lab = Lab(page, base, token)
            lab.open("week1/week-one.ipynb")
            lab.run_cell(form_cell)
            form = lab.cell(form_cell)
            form.get_by_text("Forty years we slept in the same bed", exact=False).first.wait_for()
            codes, levels = (form.get_by_label(f"T3 {name}", exact=True).evaluate(
                "s => [...s.options].map(o => o.text.replaceAll('\\u00a0', ' '))")
                for name in ("behaviour code", "empathy level"))
            assert {c.split(" ")[0] for c in codes if c.strip()} >= {"QO", "QC", "RF", "RD", "SU", "DI"}
            assert not any(c.startswith(("CR ", "SR ", "OQ ")) for c in codes), codes
            assert "7 · Profound" in levels and not any(text.startswith("8") for text in levels)
            for turn, (code, level) in CHOICES.items():
                code_index = next(i for i, c in enumerate(codes) if c.startswith(f"{code} "))
                level_index = next(i for i, t in enumerate(levels) if t.startswith(f"{level} "))
                for name, index in (("behaviour code", code_index), ("empathy level", level_index)):
                    control = form.get_by_label(f"{turn} {name}", exact=True)
                    control.click()
                    control.select_option(index=index)
            page.get_by_text("4 of 4 turns fully coded").wait_for()
            lab.run_cell(answer_cell)
            lab.cell(answer_cell).get_by_text('"T4"').first.wait_for()
            lab.save()
            saved = wait_for_file(notebook, lambda text: '"T4"' in answer_source(text))
            source = answer_source(saved)
            for turn, (code, level) in CHOICES.items():
                assert f'"{turn}": {{"code": "{code}", "empathy": {level}}}' in source, source
            lab.run_cell(check_cell)
            output = lab.cell(check_cell).inner_text()
            assert "all 4 listener turns have a code and an empathy level" in output, output
            assert "Saved file: up to date" in output, output
            assert "KEYTEXT" not in page.content()
        finally:
            page.close()
            shutdown_sessions(base, token)
