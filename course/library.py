"""Where content is found: the content folders in force, most specific first, then the shipped library.

Content (transcripts, item files, scenarios, coded-session data) is found by id. An instructor's course keeps its
own in ``<course>/content/``; a released exercise carries the course's own parts in ``content/`` beside its
notebook (nbgrader releases that folder, and autograde copies the instructor's version of it next to every
submission it runs). The shipped curriculum (this package) is always last, so a course can include it by id.

An id found in two folders is an error, never a silent override. The rubric and the vocabularies are settings,
not ids: the first folder that has one is the one in force.

The folders in force: the ones a command set with :func:`use_content` (the ``attune`` command line sets its
course's), else ``$ATTUNE_CONTENT`` (folders separated by ``os.pathsep``) and a ``content/`` folder in the current
directory (a kernel starts in its notebook's folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from course import CONTENT_DIR
from course.loading import ContentError

SHIPPED = CONTENT_DIR
FOLDER = "content"
ENV_VAR = "ATTUNE_CONTENT"
KINDS = {"transcripts": "transcript", "items": "item file", "scenarios": "scenario"}

_chosen: tuple[Path, ...] | None = None


def content_folders() -> tuple[Path, ...]:
    """The content folders in force, most specific first; the shipped library is always the last."""
    if _chosen is not None:
        own = list(_chosen)
    else:
        own = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
        here = _nearest_content(Path.cwd())
        if here is not None:
            own.append(here)
    found: list[Path] = []
    for folder in (*own, SHIPPED):
        folder = folder.resolve()
        if folder not in found:
            found.append(folder)
    return tuple(found)


def _nearest_content(start: Path) -> Path | None:
    """content/ in ``start`` (a released exercise's folder), else the content/ of the course folder around it (a
    lesson or notebook of one's own anywhere in a course made by `attune init`)."""
    if (start / FOLDER).is_dir():
        return start / FOLDER
    return next((f / FOLDER for f in start.parents
                 if (f / FOLDER).is_dir() and (f / "nbgrader_config.py").is_file()), None)


@contextmanager
def using(*folders: Path | str) -> Iterator[tuple[Path, ...]]:
    """Within the block, content comes from ``folders`` (then the shipped library) only."""
    global _chosen
    before = _chosen
    _chosen = tuple(Path(f) for f in folders)
    try:
        yield content_folders()
    finally:
        _chosen = before


def use_content(*folders: Path | str) -> None:
    """From now on (in this process), content comes from ``folders`` (then the shipped library) only."""
    global _chosen
    _chosen = tuple(Path(f) for f in folders)


def locate(kind: str, content_id: str) -> Path | None:
    """The file of ``content_id`` among the folders in force, or None; ContentError if two folders define it."""
    hits = [f / kind / f"{content_id}.yaml" for f in content_folders() if (f / kind / f"{content_id}.yaml").is_file()]
    if len(hits) > 1:
        where = " and ".join(str(h) for h in hits)
        raise ContentError(f"The {KINDS.get(kind, kind)} id {content_id!r} is defined twice: {where}. Ids are shared "
                           "with the shipped curriculum, which a course includes by id; rename yours (file name and "
                           "its id: field).")
    return hits[0] if hits else None


def find(kind: str, content_id: str) -> Path:
    """The file of ``content_id``; ContentError naming the folders searched and the ids they hold if none."""
    path = locate(kind, content_id)
    if path is None:
        folders = content_folders()
        known = sorted({p.stem for f in folders for p in (f / kind).glob("*.yaml")})
        searched = ", ".join(str(f / kind) for f in folders)
        raise ContentError(f"No {KINDS.get(kind, kind)} with id {content_id!r} in {searched}. "
                           f"Known: {', '.join(known) or 'none'}.")
    return path


def all_ids(kind: str) -> dict[str, Path]:
    """Every id of one kind in the folders in force; ContentError at the first id defined twice."""
    ids = sorted({p.stem for f in content_folders() for p in (f / kind).glob("*.yaml")})
    return {i: find(kind, i) for i in ids}


def is_shipped(path: Path) -> bool:
    """Whether a content file belongs to the shipped curriculum (not to a course of one's own)."""
    return Path(path).resolve().is_relative_to(SHIPPED)


def setting(relative: str) -> Path:
    """A course setting (``rubric.yaml``, ``vocabulary/referral.yaml``): the first folder in force that has it."""
    return next((f / relative for f in content_folders() if (f / relative).is_file()), SHIPPED / relative)


def data_file(name: str) -> Path:
    """A data file (a coded-session CSV) by name, from the folders in force; ContentError if none has it."""
    hits = [f / "data" / name for f in content_folders() if (f / "data" / name).is_file()]
    if not hits:
        raise ContentError(f"No data file {name!r} in " + ", ".join(str(f / "data") for f in content_folders()) + ".")
    return hits[0]
