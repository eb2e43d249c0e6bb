"""Attune's grading side, in layers that import only downwards (tests/test_layers.py checks it):

core (pure scoring, literals, feedback, statistics) < static (grading the answers as written) < adapters (nbgrader:
configuration, gradebook, preprocessors, test-cell functions, exchange) < orchestration (grading a cohort) <
instructor (cohort table, analytics, report) and authoring (building exercises and course folders) < the
application (cli, demo). autograder.cells, autograder.preprocessors and autograder.exchange are the names notebooks
and nbgrader configurations use; they re-export from adapters.
"""
