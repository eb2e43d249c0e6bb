"""`attune grade`: grading a cohort's submissions into nbgrader's gradebook, built on the adapters (configuration,
gradebook) and static grading below it.

Three ways, one system of record (the gradebook, so formgrader, feedback and export work unchanged):

* static_run (``--static``): read every submitted notebook, score the answers as written, write the grades and the
  autograded notebooks. Nothing the trainee wrote runs.
* executed (the default): plain ``nbgrader autograde``, sharded over local processes (``--workers``) or a Dask
  cluster (``--scheduler``). The project's nbgrader_config.py adds Attune's steps, so the score recorded for a
  rubric part is still the static one, with the executed score kept beside it.
* compare (``--compare``): list every rubric cell whose executed score differs from its static score, and flag
  those submissions for review (formgrader shows them as needing grading, with a comment on the answer cell).

submissions reads what a trainee submitted, for all three.
"""
