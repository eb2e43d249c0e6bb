"""Attune's nbgrader steps, under the names course configurations give them.

nbgrader_config.py files (autograder/templates/nbgrader_defaults.py, and instructors' own) name these classes, e.g.
``autograder.preprocessors.ScoreAnswersAsWritten``: this name must keep working for courses already configured.
The code lives in autograder/adapters/preprocessors.py.
"""

from autograder.adapters.preprocessors import (
    ClearTraineeOutputs,
    GuardExecutedScores,
    HideHiddenTestErrors,
    ResilientExecute,
    RestoreCellMetadata,
    SaveStaticGrades,
    ScoreAnswersAsWritten,
    ShowWidgetFallbacks,
)

__all__ = ["ClearTraineeOutputs", "GuardExecutedScores", "HideHiddenTestErrors", "ResilientExecute",
           "RestoreCellMetadata", "SaveStaticGrades", "ScoreAnswersAsWritten", "ShowWidgetFallbacks"]
