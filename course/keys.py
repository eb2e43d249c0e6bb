"""Expert key files of coding parts, read and written without losing anything (used by the KeyCoder widget).

A key file holds the reference answers of one transcript::

    transcript: amira-night-shifts
    turns:
      T1:
        code: OQ
        empathy: 3
        why: "Starts with 'What' and ..."
        note: "..."            # optional; any other field is kept too

Reading: a missing file is an empty key. Validating: an entry is *keyed* with a code of the rubric in force, a
level on its scale and a non-empty ``why`` (the rule `attune build` applies); everything else is reported, never
dropped. Writing: one turn's decision is merged into what the file holds now and the whole file is written
atomically (a temporary file beside it, then ``os.replace``), so a failed write leaves the old file whole.

Pure: no widgets, no notebooks. The learning side may not import autograder.authoring, so the entry rule is
written out here with the same meaning as its ``_coding_entry_problem``.
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from course.loading import ContentError, read_yaml

FIELDS = ("code", "empathy", "why")  # what makes an entry keyed; other fields (note, ...) are kept as they are
QUOTED = ("why", "note")  # prose: always double-quoted, as in the shipped key files
ORDER = (*FIELDS, "note")  # an entry's fields as written; unknown ones follow in their own order
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TURN_ID = re.compile(r"^([A-Za-z]+)([0-9]+)$")


def read_key(path: Path | str, transcript_id: str | None = None) -> dict[str, Any]:
    """The key document at ``path`` ({"transcript": ..., "turns": {...}, and whatever else it holds}); a missing
    file is an empty key. ContentError if the file cannot be a key (not YAML, not a mapping, ``turns`` not a
    mapping, or the key of another transcript): a file that cannot be read must never be overwritten."""
    path = Path(path)
    if not path.exists():
        return {"transcript": transcript_id, "turns": {}} if transcript_id else {"turns": {}}
    if path.stat().st_size == 0:
        return {"transcript": transcript_id, "turns": {}} if transcript_id else {"turns": {}}
    data = read_yaml(path)
    turns = data.get("turns")
    if turns is None:
        data["turns"] = {}
    elif not isinstance(turns, dict):
        raise ContentError(f"{path}: 'turns:' should map turn ids to entries (T1: {{code:, empathy:, why:}}), "
                           f"found {type(turns).__name__}.")
    named = data.get("transcript")
    if transcript_id and named not in (None, "", transcript_id):
        raise ContentError(f"{path}: this is the key of transcript {named!r}, not {transcript_id!r}; choose "
                           "another key_path.")
    return data


def entry_problem(entry: Any, codes: tuple[str, ...], levels: tuple[int, ...]) -> str | None:
    """Why one entry is not keyed yet (None: it is): a code of the rubric, a level on its scale, a reason."""
    if not isinstance(entry, dict):
        return f"should be code:, empathy: and why:, found {type(entry).__name__} {entry!r}"
    missing = [name for name in FIELDS if _empty(entry.get(name))]
    wrong = []
    code, level = entry.get("code"), entry.get("empathy")
    if not _empty(code) and code not in codes:
        wrong.append(f"code {code!r} is not in the rubric in force ({', '.join(codes)})")
    if not _empty(level) and (isinstance(level, bool) or level not in levels):
        wrong.append(f"empathy {level!r} is not on the rubric's scale ({min(levels)}-{max(levels)})")
    if not missing and not wrong:
        return None
    words = {"code": "behaviour code", "empathy": "empathy level", "why": "rationale (why)"}
    parts = wrong + ([f"no {', no '.join(words[m] for m in missing)}"] if missing else [])
    return "; ".join(parts)


def file_problems(data: dict[str, Any], turn_ids: tuple[str, ...], codes: tuple[str, ...],
                  levels: tuple[int, ...], transcript_id: str) -> list[str]:
    """What a key file holds that the transcript or the rubric does not know: entries for turns the transcript
    lacks, codes not in the rubric, levels off its scale, entries that are not mappings. All kept in the file."""
    problems = []
    turns = data.get("turns") or {}
    for turn_id, entry in turns.items():
        if turn_id not in turn_ids:
            problems.append(f"{turn_id}: not a listener turn of {transcript_id!r} (kept in the file; remove it "
                            "there if it is a mistake)")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{turn_id}: {entry_problem(entry, codes, levels)}")
            continue
        code, level = entry.get("code"), entry.get("empathy")
        if not _empty(code) and code not in codes:
            problems.append(f"{turn_id}: code {code!r} is not in the rubric in force ({', '.join(codes)})")
        if not _empty(level) and (isinstance(level, bool) or level not in levels):
            problems.append(f"{turn_id}: empathy {level!r} is not on the rubric's scale "
                            f"({min(levels)}-{max(levels)})")
    return problems


def merge_turn(data: dict[str, Any], turn_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of the key document with one turn's fields set (others, and other fields such as ``note``, kept).
    An empty value (None, "") clears a field; an entry left with nothing at all is removed."""
    merged = copy.deepcopy(data)
    turns = merged.setdefault("turns", {})
    if turns is None:
        turns = merged["turns"] = {}
    entry = turns.get(turn_id)
    entry = dict(entry) if isinstance(entry, dict) else {}
    for name, value in changes.items():
        if isinstance(value, str):
            value = value.strip()
        entry[name] = ("" if name in QUOTED else None) if _empty(value) else value
    if all(_empty(v) for v in entry.values()):
        turns.pop(turn_id, None)
    else:
        turns[turn_id] = entry
    return merged


def dump_key(data: dict[str, Any]) -> str:
    """The key document as YAML in the format of the shipped keys: ``transcript:`` first, then ``turns:`` in
    turn order (T1, T2, ... T10), each entry's code, empathy, why, then its other fields; then anything else."""
    lines = []
    if data.get("transcript") is not None:
        lines.append(f"transcript: {_scalar('transcript', data['transcript'])}")
    turns = data.get("turns") or {}
    lines.append("turns:" if turns else "turns: {}")
    for turn_id in sorted(turns, key=_turn_order):
        entry = turns[turn_id]
        if not isinstance(entry, dict):  # reported by file_problems, written back as it was
            lines.append(_block({turn_id: entry}, 2))
            continue
        lines.append(f"  {_scalar('id', turn_id)}:")
        for name in sorted(entry, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
            value = entry[name]
            if isinstance(value, (dict, list)):
                lines.append(_block({name: value}, 4))
            else:
                text = _scalar(name, value)
                lines.append(f"    {_scalar('id', name)}:{' ' + text if text else ''}")
    rest = {k: v for k, v in data.items() if k not in ("transcript", "turns")}
    if rest:
        lines.append(_block(rest, 0))
    return "\n".join(lines) + "\n"


def write_key(path: Path | str, data: dict[str, Any]) -> None:
    """Write the key document atomically: a temporary file in the same folder, flushed, then moved over the old
    one (``os.replace``). If anything fails, the old file is left as it was and the error is raised."""
    path = Path(path)
    text = dump_key(data)
    if yaml.load(text, Loader=_LOADER) != _normalised(data):  # never write what would not read back the same
        raise ContentError(f"{path}: the key could not be written faithfully; nothing was changed.")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file private (0600); keep the old file's mode, else what a new file would get.
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def record_turns(path: Path | str, transcript_id: str, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge turns' decisions ({turn: {field: value}}) into the key file as it is NOW (edits made elsewhere
    meanwhile are kept) and write it atomically; return the document written."""
    data = read_key(path, transcript_id)  # ContentError if it is another transcript's key
    data = {**data, "transcript": transcript_id}
    for turn_id, fields in changes.items():
        data = merge_turn(data, turn_id, fields)
    write_key(path, data)
    return data


def default_key_path(transcript_id: str, start: Path | None = None) -> Path:
    """Where the key of ``transcript_id`` is in the course folder around ``start`` (the current folder): the one
    existing among <course>/keys/ and <course>/solutions/*/keys/ (the folders `attune build` reads), else
    <course>/keys/<id>.yaml. ContentError if several exist: which one to write is the instructor's choice."""
    start = Path(start or Path.cwd()).resolve()
    course = next((f for f in (start, *start.parents) if (f / "nbgrader_config.py").is_file()), start)
    name = f"{transcript_id}.yaml"
    found = [p for p in (course / "keys" / name, *sorted((course / "solutions").glob(f"*/keys/{name}")))
             if p.is_file()]
    if len(found) > 1:
        raise ContentError(f"The key of {transcript_id!r} exists in {len(found)} places: "
                           + ", ".join(str(p) for p in found) + ". Pass key_path= to say which one to write.")
    return found[0] if found else course / "keys" / name


# -- helpers ----------------------------------------------------------------------------------------------------
def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _turn_order(turn_id: Any) -> tuple:
    match = _TURN_ID.match(str(turn_id))
    return (0, match[1], int(match[2])) if match else (1, str(turn_id), 0)


def _scalar(name: str, value: Any) -> str:
    """One scalar as YAML: prose double-quoted; an id or code plain where it reads back the same; "" as empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        if name not in QUOTED and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value) \
                and yaml.safe_load(value) == value:
            return value
        return yaml.safe_dump(value, default_style='"', allow_unicode=True, width=float("inf")).rstrip("\n")
    return yaml.safe_dump(value, width=float("inf")).removesuffix("\n...\n").rstrip("\n")


def _block(value: dict[str, Any], indent: int) -> str:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=float("inf"), default_flow_style=False)
    return "\n".join(" " * indent + line for line in text.rstrip("\n").splitlines())


def _normalised(data: dict[str, Any]) -> dict[str, Any]:
    """What ``data`` reads back as ("turns: {}" for no turns)."""
    result = dict(data)
    if result.get("transcript") is None:
        result.pop("transcript", None)
    if not result.get("turns"):
        result["turns"] = {}
    return result
