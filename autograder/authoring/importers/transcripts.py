"""`attune import {text,vtt,srt,docx}`: one file in, one validated transcript file out, in the course folder's
content/transcripts/. Nothing is written on any error."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.authoring.importers.core import ImportProblem, Options, Parsed, build_transcript, write_transcript
from course.transcript import Transcript

# Format name on the command line: the module that parses it (imported only when used: each loads its library).
FORMATS = {"text": "plain", "vtt": "vtt", "srt": "subrip", "docx": "word"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass
class Imported:
    path: Path
    transcript: Transcript
    warnings: list[str] = field(default_factory=list)


def parse(fmt: str, source: Path) -> Parsed:
    """The utterances of ``source`` read as ``fmt``."""
    if fmt not in FORMATS:
        raise ImportProblem(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}.")
    module = importlib.import_module(f"autograder.authoring.importers.{FORMATS[fmt]}")
    return module.parse_file(Path(source))


def import_transcript(fmt: str, source: Path, options: Options, course: Path, *, names: Path | None = None,
                      force: bool = False) -> Imported:
    """Read, map, merge, pseudonymise and validate; then write <course>/content/transcripts/<id>.yaml."""
    from autograder.authoring.importers.privacy import load_names, privacy_warnings, pseudonymise

    if not ID_PATTERN.match(options.id):
        raise ImportProblem(f"--id {options.id!r}: lower-case letters, digits and hyphens only (e.g. "
                            "'maya-first-session'); it becomes the file name and the id trainees' keys use.")
    target = Path(course) / "content" / "transcripts" / f"{options.id}.yaml"
    _check_id_is_free(options.id, target)
    if target.exists() and not force:  # before the work, so a long import does not end in this
        raise ImportProblem(f"{target} exists; nothing was written. Choose another --id, or add --force to replace "
                            "it.")
    real_names = load_names(names) if names is not None else None  # its problems first: nothing read in vain
    parsed = parse(fmt, source)
    transcript = build_transcript(parsed, options)
    if real_names:
        transcript = pseudonymise(transcript, real_names, parsed.source)
    warnings = [f"{w}" for w in parsed.warnings]
    warnings += [f"{hit}; pseudonymise it (--names) or edit {target.name}" for hit in privacy_warnings(transcript)]
    write_transcript(transcript, target, parsed.source, force=force)
    return Imported(target, transcript, warnings)


def _check_id_is_free(content_id: str, target: Path) -> None:
    """An id already used by another content folder in force (the shipped curriculum, say) would make
    `attune validate` fail later; say so now."""
    from course.library import locate
    from course.loading import ContentError

    try:
        existing = locate("transcripts", content_id)
    except ContentError as err:
        raise ImportProblem(str(err)) from None
    if existing is not None and existing.resolve() != target.resolve():
        raise ImportProblem(f"--id {content_id!r} is already a transcript in {existing}; ids are shared with the "
                            "shipped curriculum. Choose another --id.")
