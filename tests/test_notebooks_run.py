"""Every notebook in course/ and solutions/ runs top to bottom in a fresh kernel without error."""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient

NOTEBOOKS = sorted([*(ROOT / "course").rglob("*.ipynb"), *(ROOT / "solutions").rglob("*.ipynb")])
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def test_there_are_notebooks_to_run():
    assert any("lessons" in p.parts for p in NOTEBOOKS) and any("solutions" in p.parts for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_runs_in_a_fresh_kernel(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(i, o.get("ename"), o.get("evalue")) for i, cell in enumerate(nb.cells)
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    stderr = [(i, o.get("text")) for i, cell in enumerate(nb.cells) for o in cell.get("outputs", [])
              if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert errors == [] and stderr == []
    if "solutions" in path.parts:
        # The solution's own answers must earn full marks: the answer cell and the hidden key agree.
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code" and meta.get("points") and not meta.get("solution"):
                results = [o for o in cell.outputs if o.get("output_type") == "execute_result"]
                assert float(results[-1]["data"]["text/plain"]) == float(meta["points"])
