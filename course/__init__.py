"""Attune's learning side: the rubric, transcripts and scenarios (data), and the widgets that use them.

Importing this package is cheap on purpose: every trainee kernel and every autograde run pays for it.
Submodules load pydantic, YAML and ipywidgets only when they are used.
"""

from pathlib import Path

CONTENT_DIR = Path(__file__).resolve().parent
