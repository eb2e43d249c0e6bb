"""The functions nbgrader test cells call, under the name released notebooks import them by.

Every released and submitted notebook says ``from autograder.cells import check_format, grade``: this name must
keep working for notebooks already in trainees' hands. The code lives in autograder/adapters/cells.py.
"""

from autograder.adapters.cells import FormatProblems, check_format, grade

__all__ = ["FormatProblems", "check_format", "grade"]
