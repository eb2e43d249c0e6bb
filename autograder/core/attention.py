"""The grader's view of a course: the totals exactly as `nbgrader export` writes them, and everything a grader must
look at before those totals go out (a total below 0 or above the maximum, a manual score or extra credit that
changed a total, a submission collected but not graded, an emptied notebook, an open review flag, a refusal, a
trainee with no total at all).

Pure: the gradebook's rows and the course folder's file states come in as plain data (gathered by
autograder.orchestration.attention); nothing here reads a file or a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# The kinds of attention, most serious first: a wrong number that would be exported, then work that is not
# graded at all, then what a grader should confirm, then trainees with nothing to grade.
NEGATIVE_TOTAL = "total below 0"
OVER_MAXIMUM = "total above the maximum"
CELL_OUT_OF_RANGE = "cell score out of range"
NOT_GRADED = "collected, not graded"
FILE_PROBLEM = "submitted file missing or empty"
REFUSED = "refused submission"
OPEN_FLAG = "open review flag"
EXTRA_CREDIT = "extra credit"
MANUAL_OVERRIDE = "manual score replaces the autograded one"
NO_TOTAL = "no gradebook total"
KINDS = (NEGATIVE_TOTAL, OVER_MAXIMUM, CELL_OUT_OF_RANGE, NOT_GRADED, FILE_PROBLEM, REFUSED, OPEN_FLAG, EXTRA_CREDIT,
         MANUAL_OVERRIDE, NO_TOTAL)

EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                  "raw_score", "late_submission_penalty", "score", "max_score")
UNRECORDED = "the gradebook does not record who entered it or when"


# -- what comes in ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Assignment:
    name: str
    max_score: float
    duedate: str = ""  # as nbgrader export writes it ("" when none)


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of a submission, as the gradebook's grade row holds it."""

    notebook: str
    cell: str
    max_score: float
    auto: float | None = None
    manual: float | None = None
    extra_credit: float | None = None
    needs_manual: bool = False

    @property
    def score(self) -> float:
        """nbgrader's Grade.score: the manual score if any, else the auto score, plus extra credit; 0 with
        neither (extra credit then counts for nothing)."""
        base = self.manual if self.manual is not None else self.auto
        return 0.0 if base is None else base + (self.extra_credit or 0.0)

    @property
    def where(self) -> str:
        return f"{self.notebook}/{self.cell}"


@dataclass(frozen=True)
class Submission:
    """A trainee's submission of an assignment in the gradebook."""

    student: str
    assignment: str
    timestamp: str = ""  # as nbgrader export writes it
    late_penalty: float = 0.0
    cells: tuple[CellGrade, ...] = ()
    raw_score: float | None = None  # the gradebook's SubmittedAssignment.score; None: the sum of the cells

    @property
    def raw(self) -> float:
        return self.raw_score if self.raw_score is not None else sum(c.score for c in self.cells)


@dataclass(frozen=True)
class ReviewFlag:
    """A cell (or, with cell "", a whole notebook) flagged for review; open until resolved."""

    student: str
    assignment: str
    notebook: str
    cell: str
    comment: str = ""
    resolved: bool = False


MISSING, EMPTY, UNREADABLE = "missing", "empty", "unreadable"
SUBMITTED, AUTOGRADED = "submitted", "autograded"


@dataclass(frozen=True)
class NotebookFile:
    """A notebook file of a gradebook submission that is not as it should be: ``stage`` is "submitted" or
    "autograded", ``state`` "missing", "empty" (0 bytes or only whitespace) or "unreadable" (not notebook JSON)."""

    student: str
    assignment: str
    notebook: str
    stage: str
    state: str
    path: str = ""


@dataclass(frozen=True)
class Refusal:
    """A submission `nbgrader collect` refused in the ``claimed`` trainee's name."""

    assignment: str
    claimed: str
    owner: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CourseFacts:
    assignments: tuple[Assignment, ...]
    students: tuple[Student, ...]  # every trainee in the gradebook, in nbgrader's order (last, first name)
    submissions: tuple[Submission, ...]
    flags: tuple[ReviewFlag, ...] = ()
    files: tuple[NotebookFile, ...] = ()
    collected_not_graded: tuple[tuple[str, str], ...] = ()  # (student, assignment): in submitted/, not gradebook
    # (student, assignment, submitted at, graded copy's time): collected again after it was graded
    collected_again: tuple[tuple[str, str, str, str], ...] = ()
    refusals: tuple[Refusal, ...] = ()


# -- what goes out ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportRow:
    """One row of `nbgrader export` (nbgrader/plugins/export.py), with its numbers as numbers."""

    assignment: str
    duedate: str
    timestamp: str
    student_id: str
    last_name: str
    first_name: str
    email: str
    raw_score: float
    late_submission_penalty: float
    score: float
    max_score: float
    submitted: bool


@dataclass(frozen=True)
class Attention:
    kind: str
    student: str
    assignment: str
    where: str  # "notebook/cell", a notebook, or "" for the whole submission
    detail: str  # what is wrong and what to do, in a sentence a grader can act on


@dataclass(frozen=True)
class GradersView:
    totals: list[ExportRow]
    attention: list[Attention]

    def reasons(self, student: str, assignment: str) -> str:
        """The kinds of attention for one trainee x assignment, "; "-joined (for a CSV cell)."""
        kinds = dict.fromkeys(a.kind for a in self.attention if a.student == student and a.assignment == assignment)
        return "; ".join(kinds)


def export_totals(facts: CourseFacts) -> list[ExportRow]:
    """The rows `nbgrader export` writes: every trainee x every assignment, 0 and no timestamp without a
    submission, score = max(0, raw score - late penalty)."""
    found = {(s.student, s.assignment): s for s in facts.submissions}
    rows = []
    for assignment in facts.assignments:
        for student in facts.students:
            submission = found.get((student.id, assignment.name))
            raw = submission.raw if submission else 0.0
            penalty = submission.late_penalty if submission else 0.0
            rows.append(ExportRow(assignment.name, assignment.duedate, submission.timestamp if submission else "",
                                  student.id, student.last_name, student.first_name, student.email, raw, penalty,
                                  max(0.0, raw - penalty), assignment.max_score, submission is not None))
    return rows


def _g(value: float) -> str:
    return f"{value:g}"


def _total_items(submission: Submission, maximum: float) -> list[Attention]:
    raw, penalty = submission.raw, submission.late_penalty
    items = []
    if raw < 0:
        items.append(Attention(NEGATIVE_TOTAL, submission.student, submission.assignment, "",
                               f"The recorded total is {_g(raw)} of {_g(maximum)}; nbgrader export and Canvas get "
                               f"{_g(max(0.0, raw - penalty))} (clamped at 0). Find the negative score or extra "
                               "credit in formgrader and correct it."))
    if raw - penalty > maximum:
        items.append(Attention(OVER_MAXIMUM, submission.student, submission.assignment, "",
                               f"The recorded total is {_g(raw - penalty)} of {_g(maximum)}, and is exported as it "
                               "is. Check the manual scores and extra credit of this submission in formgrader."))
    return items


def _cell_items(submission: Submission) -> list[Attention]:
    items = []
    for cell in submission.cells:
        def item(kind: str, detail: str, cell: CellGrade = cell) -> Attention:
            return Attention(kind, submission.student, submission.assignment, cell.where, detail)

        for name, value in (("manual", cell.manual), ("autograded", cell.auto)):
            if value is not None and value > cell.max_score:
                items.append(item(CELL_OUT_OF_RANGE, f"The {name} score {_g(value)} is above this cell's "
                                                     f"{_g(cell.max_score)} points. Correct it in formgrader."))
            elif value is not None and value < 0:
                items.append(item(CELL_OUT_OF_RANGE, f"The {name} score {_g(value)} is below 0. Correct it in "
                                                     "formgrader."))
        if cell.extra_credit and (cell.manual is not None or cell.auto is not None):  # else it counts for nothing
            items.append(item(EXTRA_CREDIT, f"Extra credit of {_g(cell.extra_credit)} changes the total by that "
                                            f"much (the cell counts {_g(cell.score)} of {_g(cell.max_score)}). "
                                            "Check it was meant."))
        if cell.manual is not None and cell.auto is not None and cell.manual != cell.auto:
            items.append(item(MANUAL_OVERRIDE, f"A manual score of {_g(cell.manual)} replaces the autograded "
                                               f"{_g(cell.auto)} ({UNRECORDED}). Confirm it in formgrader."))
    return items


def _file_item(file: NotebookFile) -> Attention:
    where = file.notebook
    shown = file.path or f"{file.stage}/{file.student}/{file.assignment}/{file.notebook}.ipynb"
    state = {MISSING: "is missing", EMPTY: "is empty (0 bytes or only whitespace)",
             UNREADABLE: "is not readable notebook JSON"}.get(file.state, file.state)
    if file.stage == AUTOGRADED:
        return Attention(NOT_GRADED, file.student, file.assignment, where,
                         f"In the gradebook, but the autograded notebook {shown} {state}: formgrader says it needs "
                         f"autograding. Grade it again (`attune grade {file.assignment} --force`).")
    return Attention(FILE_PROBLEM, file.student, file.assignment, where,
                     f"The submitted notebook {shown} {state}: the trainee's work is not there, and any recorded "
                     "total came from an earlier copy. Ask the trainee to submit again (or recover the file), then "
                     "grade it again.")


def attention_items(facts: CourseFacts) -> list[Attention]:
    """Everything a grader must look at, most serious first (then by assignment, trainee, place)."""
    maximum = {a.name: a.max_score for a in facts.assignments}
    known = set(maximum)
    items: list[Attention] = []
    for submission in facts.submissions:
        if submission.assignment in known:
            items += _total_items(submission, maximum[submission.assignment])
            items += _cell_items(submission)
    collected = set(facts.collected_not_graded)
    for student, assignment in sorted(collected):
        items.append(Attention(NOT_GRADED, student, assignment, "",
                               f"Collected in submitted/ but not in the gradebook, so it has no total (formgrader "
                               f"would say it needs autograding). Grade it: `attune grade {assignment}`."))
    for student, assignment, submitted_at, graded_at in facts.collected_again:
        items.append(Attention(NOT_GRADED, student, assignment, "",
                               f"Collected again ({submitted_at}) after the copy of {graded_at} was graded: the "
                               "recorded total is the earlier copy's, and formgrader says it needs autograding. "
                               f"Grade it again: `attune grade {assignment} --force`."))
    items += [_file_item(f) for f in facts.files]
    refused = {}
    for refusal in facts.refusals:
        refused.setdefault((refusal.claimed, refusal.assignment), refusal)
        items.append(Attention(REFUSED, refusal.claimed, refusal.assignment, "",
                               f"nbgrader collect refused a submission in this trainee's name (owner "
                               f"{refusal.owner or 'unknown'}: {refusal.reason or 'no reason recorded'}). Their own "
                               f"submission, if any, was collected; a copy of the refused folder is in "
                               f"refused/{refusal.assignment}/. Check with the trainee and the owner."))
    for flag in facts.flags:
        if not flag.resolved:
            what = f"flagged for review ({flag.comment})" if flag.comment else "flagged for review"
            place = f"{flag.notebook}/{flag.cell}" if flag.cell else flag.notebook
            items.append(Attention(OPEN_FLAG, flag.student, flag.assignment, place,
                                   f"This {'cell' if flag.cell else 'notebook'} is {what} and not graded yet. Grade "
                                   "it in formgrader."))
    submitted = {(s.student, s.assignment) for s in facts.submissions}
    for assignment in facts.assignments:
        for student in facts.students:
            key = (student.id, assignment.name)
            if key in submitted:
                continue
            if key in collected:
                why = "their submission is collected but not graded (see above)"
            elif key in refused:
                why = "nbgrader collect refused the submission made in their name (see above)"
            else:
                why = "nothing of theirs was collected"
            items.append(Attention(NO_TOTAL, student.id, assignment.name, "",
                                   f"No submission in the gradebook: {why}. nbgrader export writes 0 of "
                                   f"{_g(assignment.max_score)} with no timestamp."))
    return sort_attention(items)


def sort_attention(items: Iterable[Attention]) -> list[Attention]:
    """Most serious kind first, then by assignment, trainee and place."""
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(items, key=lambda a: (rank.get(a.kind, len(KINDS)), a.assignment, a.student, a.where))


def graders_view(facts: CourseFacts) -> GradersView:
    """The export totals and the attention items of a course."""
    return GradersView(export_totals(facts), attention_items(facts))


def for_assignment(view: GradersView, assignment: str) -> GradersView:
    """The same view, for one assignment only."""
    return GradersView([r for r in view.totals if r.assignment == assignment],
                       [a for a in view.attention if a.assignment == assignment])
