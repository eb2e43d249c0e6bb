"""Attune's nbgrader settings for every course folder, loaded first by each course's nbgrader_config.py.

nbgrader's own names map onto ours: its "source" notebooks (with answers and hidden tests) live in
solutions/, and what it releases to trainees lands in exercises/. A course's nbgrader_config.py sets its folder and
course id after loading this file, and may set anything else (a PostgreSQL gradebook, an exchange) the same way.
Kept in the package, so a course made with `attune init` gets Attune's fixes with Attune.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader import preprocessors as nbgrader_steps

from autograder import preprocessors as attune_steps
from autograder.adapters import gradebook as gradebook_adapter

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# keys/ holds the reference answers the hidden tests are built from (see autograder/authoring/build.py): never released.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "keys",
]

# Released text of answer cells. A comment is valid Python anywhere, including inside the
# `answers = {...}` literal that a form fills in, so one stub serves every answer cell.
c.ClearSolutions.code_stub = {"python": "# (the form writes your answers here when you run this cell)"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograde: nbgrader's own steps, with four of Attune's around them (autograder/adapters/preprocessors.py). The
# trainee's code runs in the same kernel as the hidden tests and could fake any score there, so for every rubric
# part the score recorded is the one of the answers as written, computed before anything runs; the executed
# test's score is kept beside it and a difference flags the submission for review (`attune grade --compare`).
# ResilientExecute is nbgrader's Execute, except that a dying kernel no longer aborts the submission;
# GuardExecutedScores turns a test output nbgrader cannot record (above the cell's points) into a 0 to review; and
# RestoreCellMetadata gives cells the gradebook's nbgrader metadata before nbgrader validates it (a notebook with
# an old metadata schema would otherwise stop the whole run, for every trainee after it).
c.Autograde.sanitize_preprocessors = [
    attune_steps.RestoreCellMetadata,
    nbgrader_steps.ClearOutput,
    nbgrader_steps.DeduplicateIds,
    nbgrader_steps.OverwriteKernelspec,
    nbgrader_steps.OverwriteCells,
    nbgrader_steps.CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    attune_steps.ScoreAnswersAsWritten,
    attune_steps.ResilientExecute,
    nbgrader_steps.IgnorePattern,
    ClearMetadataPreprocessor,
    nbgrader_steps.LimitOutput,
    attune_steps.GuardExecutedScores,
    nbgrader_steps.SaveAutoGrades,
    attune_steps.SaveStaticGrades,
    nbgrader_steps.AssignLatePenalties,
    nbgrader_steps.CheckCellMetadata,
]

# Executed grading runs every kernel in Attune's sandbox (bubblewrap; autograder/adapters/sandbox.py): ResilientExecute
# starts its kernels there, and this exporter stops autograde before the first submission when the sandbox cannot
# start here (no bubblewrap, no user namespaces). Its limits are c.GradingSandbox.memory_mb, processes, disk_mb,
# wall_seconds and output_mb; c.GradingSandbox.run_unsandboxed = True opts out, accepting that trainees' code then
# runs with the grader's rights. A cell still has nbgrader's timeout (c.Execute.timeout, 30 s).
c.Autograde.exporter_class = "autograder.adapters.sandbox.SandboxCheckedExporter"

# Feedback shows scores and the printed per-turn feedback, never the hidden tests (the answer key):
# nbgrader's default list would show them (jupyter/nbgrader#917), and a traceback in a hidden-test cell
# would quote the key, so those tracebacks become one plain line first; what the trainee's own cells printed
# while they ran for grading (with the grader's permissions) is left out. Widgets show as their static
# stand-in (the transcript), since a feedback page has no kernel to draw them.
c.GenerateFeedback.preprocessors = [
    nbgrader_steps.GetGrades,
    attune_steps.HideHiddenTestErrors,
    nbgrader_steps.ClearHiddenTests,
    attune_steps.ClearTraineeOutputs,
    attune_steps.ShowWidgetFallbacks,
    CSSHTMLHeaderPreprocessor,
]
# Review flags (autograder/adapters/gradebook.py): a rubric cell whose executed score differs from its answers as
# written needs grading, carries the reason on that test cell, and flags its notebook (formgrader's "Flagged?"
# column). A score entered on the cell in formgrader resolves it; this makes formgrader's process do that.
gradebook_adapter.resolve_review_flags_when_scored()

# The page itself comes from Attune's template, autograder/templates/feedback/: what nbgrader's shows, readable by
# everyone (a language, a main landmark, WCAG AA contrast, underlined links). It is named "feedback" like
# nbgrader's, the name nbgrader and formgrader's "Generate feedback" button ask for, and is found first. nbgrader's
# own template folder stays listed: formgrader takes this setting too. Its grading page is Attune's
# autograder/templates/formgrade/, which extends nbgrader's (found through extra_template_paths) to show, on each
# flagged cell, why it needs the grader's score.
_nbgrader_templates = os.path.join(os.path.dirname(nbgrader_steps.__file__), os.pardir, "server_extensions",
                                   "formgrader", "templates")
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(attune_steps.__file__), "templates"),
    _nbgrader_templates,
]
c.HTMLExporter.extra_template_paths = [_nbgrader_templates]

# LMS downloads: `nbgrader zip_collect <exercise>` reads downloaded/<exercise>/archive/*.zip. Canvas's "Download
# Submissions" names each file <name>_<user id>_<submission id>_<notebook>.ipynb, with LATE_ after the name for
# late work; the name part becomes the nbgrader student id (README: "Collecting from an LMS").
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_(?:LATE_)?\d+_\d+_(?P<file_id>[^/]+\.ipynb)$"

# Collect: a trainee can submit in another's name (`nbgrader submit ex01 --student=someone`); nbgrader only logs
# "cheating attempt?" and collects it over the real one. Attune's collector refuses every inbound folder that is
# not owned by the Unix user of the student it claims to be from, collects that trainee's own latest submission
# instead, and records the attempt in refused/ (autograder/adapters/exchange.py). Where every user's server runs as one
# uid (Kubernetes, Docker: jovyan), owners tell nobody apart: set c.ExchangeCollect.check_owner = False there, and
# the collector is nbgrader's again.
c.ExchangeFactory.collect = "autograder.exchange.OwnerCheckedCollect"
