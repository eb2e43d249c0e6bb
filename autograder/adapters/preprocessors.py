"""nbgrader/nbconvert steps of our own. Each does one job on a notebook, configured through traitlets.

Course configurations name them as autograder.preprocessors.<Class> (the re-exporting module); the gradebook
reads and writes of the autograde steps are autograder/adapters/gradebook.py's.
"""

from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, List, Unicode

from autograder.static.notebooks import RECORDED_LOG


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


class ClearTraineeOutputs(Preprocessor):
    """Clear the outputs of cells whose code the trainee wrote, before feedback is made.

    During executed grading those cells ran with the grader's permissions: whatever they printed (a file they
    read, say) would otherwise reach the trainee's feedback page. Locked cells (the course's own code) and the
    rubric scores that Attune writes into the test cells keep their outputs.
    """

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and not (meta.get("locked") or meta.get("grade")):
            cell.outputs = []
        return cell, resources


# -- autograde: the score of a rubric part never depends on what the trainee's code does at run time ------------
_EXERCISES: dict[tuple[str, str, str], object] = {}


def _exercise(db_url: str, assignment: str, notebook: str):
    """The notebook's cells and references from the gradebook, read once per grading process: the first read
    happens before any trainee code has run, so later notebooks cannot change what this process grades against."""
    key = (db_url, assignment, notebook)
    if key not in _EXERCISES:
        from autograder.adapters.gradebook import exercise_at

        for exercise in exercise_at(db_url, assignment):
            _EXERCISES[(db_url, assignment, exercise.name)] = exercise
    return _EXERCISES[key]


class RestoreCellMetadata(Preprocessor):
    """Sanitising, first: every cell claiming a grade id gets the gradebook's nbgrader metadata for it; claims
    the gradebook does not know are removed (autograder.static.notebooks.restore_metadata says why)."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from autograder.static.notebooks import restore_metadata

        info = resources["nbgrader"]
        restore_metadata(nb.cells, _exercise(info["db_url"], info["assignment"], info["notebook"]))
        for cell in nb.cells:  # nbconvert reads metadata by attribute
            if "nbgrader" in cell.metadata and not isinstance(cell.metadata.nbgrader, NotebookNode):
                cell.metadata.nbgrader = NotebookNode(cell.metadata.nbgrader)
        return nb, resources


class ScoreAnswersAsWritten(Preprocessor):
    """Before the notebook runs: score every rubric part from its answer cell's text (see autograder/static/answers.py).

    Goes first in ``Autograde.autograde_preprocessors``. The scores wait in the resources for SaveStaticGrades,
    so nothing the notebook does when it runs can change them.
    """

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from autograder.static.notebooks import grade_notebook

        info = resources["nbgrader"]
        exercise = _exercise(info["db_url"], info["assignment"], info["notebook"])
        resources["attune_static"] = grade_notebook(nb, exercise)  # type: ignore[arg-type]
        return nb, resources


# Messages whose content becomes outputs (or widget state) that the grader keeps in memory while a notebook runs.
_SIZED_MESSAGES = frozenset({"stream", "display_data", "execute_result", "update_display_data", "error",
                             "comm_open", "comm_msg"})


class ResilientExecute(Execute):
    """nbgrader's Execute, run in the grading sandbox (autograder/adapters/sandbox.py), and hardened against what
    the code it runs can do to the grader:

    - a kernel that dies (``os._exit``, a killed process, memory, the sandbox's wall clock) does not abort the
      submission: the cell where it died gets an error output, later cells stay unrun, and grading goes on, so the
      answers as written are still scored and recorded (nbgrader would record nothing);
    - a cell that outlives its timeout and ignores the interrupt ends the kernel, instead of making every later
      cell wait out its own timeout;
    - outputs stop being kept past ``GradingSandbox.output_mb`` per notebook (they would fill the grader's memory).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from autograder.adapters.sandbox import GradingSandbox, kernel_manager_class

        given = "kernel_manager_class" in kwargs
        super().__init__(*args, **kwargs)
        if not given:
            self.kernel_manager_class = kernel_manager_class(self.config)
        self._output_limit = GradingSandbox(config=self.config).output_mb * 1024 * 1024
        self._output_budget, self._output_dropped = self._output_limit, False

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int) -> NotebookNode | None:
        if msg.get("msg_type") in _SIZED_MESSAGES:
            self._output_budget -= len(repr(msg.get("content")))
            if self._output_budget < 0:
                if not self._output_dropped:
                    self._output_dropped = True
                    self.log.warning("Cell %s: the notebook's output passed GradingSandbox.output_mb; the rest is "
                                     "dropped.", cell_index)
                    cell.outputs.append(NotebookNode(output_type="stream", name="stderr", text=(
                        "[Attune: this notebook's output passed the grading limit; the rest was not kept]\n")))
                return None
        return super().process_message(msg, cell, cell_index)

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict | None:
        from nbclient.exceptions import DeadKernelError

        reply = await super()._async_handle_timeout(timeout, cell)
        if not await self._kernel_answers(seconds=5):
            await self.km.shutdown_kernel(now=True)
            raise DeadKernelError(f"a cell ran past its {timeout} s and did not stop when interrupted")
        return reply

    async def _kernel_answers(self, seconds: float) -> bool:
        """Whether the kernel answers a kernel_info request within ``seconds`` (it cannot while a cell still runs)."""
        import time

        msg_id = self.kc.kernel_info()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await self.kc.get_shell_msg(timeout=left)
            except Exception:  # queue.Empty when the time is up, or a closed channel
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    def preprocess(self, nb: NotebookNode, resources: dict, km=None) -> tuple[NotebookNode, dict]:
        from nbclient.exceptions import DeadKernelError

        from autograder.adapters.sandbox import SandboxedKernelManager

        self._output_budget, self._output_dropped = self._output_limit, False
        resources["attune_sandboxed"] = issubclass(self.kernel_manager_class, SandboxedKernelManager)
        try:
            return super().preprocess(nb, resources, km=km)
        except (DeadKernelError, RuntimeError) as err:
            where = next((c for c in reversed(nb.cells) if c.cell_type == "code" and c.get("execution_count")), None)
            said = getattr(self.km, "kernel_log", lambda: "")().strip()
            self.log.error("The kernel stopped while running %s (%s); scoring the answers as written.%s",
                           resources.get("nbgrader", {}).get("notebook"), err,
                           f" The kernel's last words: {said[-500:]}" if said else "")
            if where is not None:
                where.outputs.append(NotebookNode(output_type="error", ename="KernelStopped",
                                                  evalue="the Python process ended while this cell ran",
                                                  traceback=["KernelStopped: the Python process ended while this "
                                                             "cell ran; later cells were not run."]))
            return nb, resources


class GuardExecutedScores(Preprocessor):
    """Before nbgrader's SaveAutoGrades: a test cell whose run printed a score nbgrader cannot record (above the
    cell's points, infinite, a result without text) would make nbgrader fail the whole submission, recording
    nothing. Such an output becomes an error naming what was printed: the executed score is 0, the answers as
    written are recorded, and the difference flags the cell for review."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int) -> tuple[NotebookNode, dict]:
        from nbgrader.utils import determine_grade, is_grade

        if cell.cell_type != "code" or not is_grade(cell):
            return cell, resources
        try:
            determine_grade(cell)
        except (ValueError, KeyError, TypeError) as err:
            shown = next((str(o.get("data", {}).get("text/plain", "(no text)"))[:80] for o in cell.outputs
                          if o.get("output_type") == "execute_result"), "")
            self.log.warning("Test cell %s printed %s, which nbgrader cannot record (%s); scored 0 when executed.",
                             cell.metadata.nbgrader.get("grade_id"), shown, err)
            cell.outputs = [NotebookNode(output_type="error", ename="UnrecordableScore", evalue=shown, traceback=[
                f"UnrecordableScore: this test cell printed {shown}, which is not a score between 0 and "
                f"{cell.metadata.nbgrader.get('points')}"])]
        return cell, resources


class SaveStaticGrades(Preprocessor):
    """After nbgrader's SaveAutoGrades: record, for every rubric part, the score of the answers as written
    instead of the executed test cell's score, keep the executed score beside it (notebook metadata), and
    flag the submission for review where the two differ (formgrader: needs grading, with a comment)."""

    enabled = Bool(True, help="nbconvert skips preprocessors that are not enabled.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from nbformat import from_dict
        from nbgrader.utils import determine_grade

        from autograder.adapters.gradebook import save_static_grades
        from autograder.static.answers import nbgrader_cells
        from autograder.static.notebooks import record

        info = resources["nbgrader"]
        grades = resources["attune_static"]
        cells = nbgrader_cells(nb.cells)
        executed: dict[str, float | None] = {}
        for test_cell in grades.static:
            cell = cells.get(test_cell)
            executed[test_cell] = determine_grade(cell, self.log)[0] if cell is not None and cell.get(
                "metadata", {}).get("nbgrader", {}).get("grade") else None
        found = save_static_grades(info["db_url"], info["assignment"], info["notebook"], info["student"], grades,
                                   executed)
        for difference in found:
            self.log.warning("Flagged for review: %s", difference.line())
        record(nb, grades, "executed", executed, as_node=from_dict, sandboxed=resources.get("attune_sandboxed"))
        self.log.info("%s %s %s", RECORDED_LOG, info["student"], info["notebook"])
        return nb, resources
