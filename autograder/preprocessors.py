"""nbgrader/nbconvert steps of our own. Each does one job on a notebook, configured through traitlets."""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool, List, Unicode


class ShowWidgetFallbacks(Preprocessor):
    """Drop live-widget views and scripts from outputs, so that their stand-ins show in static pages.

    A feedback page has no kernel behind it: a widget view renders as nothing there. Attune's widgets
    also carry a text/html and text/plain version (the transcript), which this step lets through.
    """

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)
    mimetypes = List(Unicode(), default_value=["application/vnd.jupyter.widget-view+json", "application/javascript"],
                     help="Output mimetypes to remove before a notebook becomes a static page.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None:
                for mimetype in self.mimetypes:
                    data.pop(mimetype, None)
                if not data:
                    continue
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
        return cell, resources


class HideHiddenTestErrors(Preprocessor):
    """Replace error tracebacks of cells with hidden tests by one plain line, before feedback is made.

    IPython's traceback quotes the source lines around the failing one: in a cell with hidden tests
    those lines are the answer key. ClearHiddenTests clears the source but not the outputs, so this step
    must run before it (it finds the cells by their hidden-test markers).
    """

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)
    begin_marker = Unicode("### BEGIN HIDDEN TESTS", help="Marks the start of hidden tests.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        if cell.cell_type != "code" or self.begin_marker not in cell.source:
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["evalue"] = "the grading code stopped with an error, so this cell scored 0"
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output['evalue']}. "
                                       "Your instructor can see the details."]
        return cell, resources
