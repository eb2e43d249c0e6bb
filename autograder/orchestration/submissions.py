"""Reading what a trainee submitted (a notebook, its timestamp), in words a trainee can act on: shared by
static grading, the cross-check and the completeness check of executed grading."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any


def read_submitted(path: Path) -> tuple[dict | None, str | None]:
    """A submitted notebook as a v4 dict, or None and why not (in words a trainee can act on)."""
    if not path.is_file():
        return None, f"no {path.name} was submitted"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, f"{path.name} cannot be read ({err})"
    if not text.strip():
        return None, f"{path.name} is empty (0 bytes of notebook)"
    try:
        nb = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        return None, f"{path.name} is not a valid notebook file (broken JSON: {err})"
    if isinstance(nb, dict) and nb.get("nbformat") in (3, 2, 1):
        # Old Jupyter saved nbformat 3; nbgrader reads it converted to version 4, so static grading does too.
        import nbformat

        try:
            nb = json.loads(json.dumps(nbformat.reads(text, as_version=4)))
        except Exception as err:  # nbformat raises many kinds for malformed old notebooks
            return None, f"{path.name} is an old notebook format that could not be converted ({err})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None, f"{path.name} is not a notebook (no list of cells)"
    return nb, None


def read_timestamp(folder: Path) -> Any:
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        return None
    if text.endswith(" UTC"):  # nbgrader's own format: read it without dateutil's general (slow) parser
        try:
            return datetime.datetime.fromisoformat(text.removesuffix(" UTC"))
        except ValueError:
            pass
    from nbgrader.utils import parse_utc

    return parse_utc(text)
