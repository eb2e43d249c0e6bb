"""Second-coding records and their adjudication: which disagreements between a key and a blind second coding are
still open, and what deciding one does to the record and to the key.

A record (autograder.instructor.second_coding) lives beside the keys, in ``<keys>/second-coding/``, named
``<transcript>.yaml`` or ``<transcript>.<coder>.yaml`` (the transcript id is the part before the first dot):

    transcript: <id>
    first:  {T1: {code: OQ, empathy: 3}, ...}     # the key as it was when the second coding was compared
    second: {T1: {code: OQ, empathy: 3}, ...}     # the blind second coder's
    resolutions:                                  # one per turn where the two differ
      T4: {code: AD, empathy: 1, why: "which reading wins and why"}

A disagreement is a turn whose code or empathy level differs between ``first`` and ``second``; it is open until the
record has a resolution for that turn. Deciding it writes the resolution into the record and the chosen code and
level (with its ``why``) into the key file, each file replaced atomically and edited in place (comments and the
other entries stay as they were).

The decisions themselves (:func:`apply_decision`) are pure; :func:`adjudicate` is the file adapter the
Adjudicate widget and the command line share.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from course.errors import AttuneError

SECOND_CODING_DIR = "second-coding"
KEYS_DIR = "keys"
SOLUTIONS_DIR = "solutions"
FIELDS = ("code", "empathy")
Choice = Literal["key", "second", "other"]


# -- records: names and places ---------------------------------------------------------------------------------
def record_transcript(path: Path | str) -> str:
    """The transcript id of a record file: its name before the first dot."""
    return Path(path).name.split(".", 1)[0]


def record_coder(path: Path | str) -> str | None:
    """The second coder named in a record file's name (``<transcript>.<coder>.yaml``), or None."""
    parts = Path(path).name.split(".")
    return ".".join(parts[1:-1]) or None


def record_name(path: Path | str) -> str:
    """How a record is named in reports: ``transcript`` or ``transcript.coder``."""
    return Path(path).name.removesuffix(".yaml")


def record_files(keys: Path, transcript: str | None = None) -> list[Path]:
    """The second-coding records in a key folder (``keys/second-coding/``), all or those of one transcript."""
    folder = Path(keys) / SECOND_CODING_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.yaml") if transcript is None or record_transcript(p) == transcript)


def course_record_files(root: Path) -> list[Path]:
    """Every second-coding record of a course folder: its own keys/ and every solutions/<exercise>/keys/."""
    root = Path(root)
    folders = [root / KEYS_DIR, *sorted(p / KEYS_DIR for p in (root / SOLUTIONS_DIR).glob("*") if p.is_dir())]
    return [path for folder in folders for path in record_files(folder)]


def find_course_root(start: Path | None = None) -> Path:
    """The course folder at or above ``start`` (default: the current folder): nbgrader_config.py and solutions/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / SOLUTIONS_DIR).is_dir():
            return folder
    raise AttuneError(f"no course folder at or above {here} (a folder with nbgrader_config.py and solutions/).")


def key_for_record(record_path: Path, root: Path | None = None) -> Path:
    """The key file a record belongs to: the transcript's key in the record's own key folder, else (a record in the
    course's keys/) the exercise's own key in solutions/*/keys/ that `attune build` would read first."""
    transcript = record_transcript(record_path)
    keys = Path(record_path).parent.parent
    own = keys / f"{transcript}.yaml"
    candidates = [own]
    if root is not None:
        candidates += sorted(Path(root).glob(f"{SOLUTIONS_DIR}/*/{KEYS_DIR}/{transcript}.yaml"))
        candidates.append(Path(root) / KEYS_DIR / f"{transcript}.yaml")
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise AttuneError(f"{record_path}: no key file for {transcript!r} (looked for {own}).")
    return found


def load_yaml(path: Path) -> dict:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise AttuneError(f"{path}: expected a mapping at the top level.")
    return data


# -- disagreements -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Disagreement:
    """One turn on which the key (as first written) and the second coder differ."""

    turn: str
    fields: tuple[str, ...]  # which of code and empathy differ
    key: Mapping[str, Any]  # {code, empathy} as in the record's first:
    second: Mapping[str, Any]  # {code, empathy[, why]} as the second coder gave them
    resolution: Mapping[str, Any] | None  # the recorded decision, if any

    @property
    def resolved(self) -> bool:
        return self.resolution is not None


def disagreements(record: Mapping[str, Any]) -> list[Disagreement]:
    """Every turn of a record on which the two codings differ, in the record's turn order."""
    first, second = record.get("first") or {}, record.get("second") or {}
    resolutions = record.get("resolutions") or {}
    found = []
    for turn, mine in first.items():
        theirs = second.get(turn)
        if theirs is None:
            continue
        fields = tuple(f for f in FIELDS if mine.get(f) != theirs.get(f))
        if fields:
            found.append(Disagreement(turn, fields, dict(mine), dict(theirs), resolutions.get(turn)))
    return found


def open_disagreements(record: Mapping[str, Any]) -> list[Disagreement]:
    return [d for d in disagreements(record) if not d.resolved]


# -- deciding ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """The instructor's decision on one turn: whose coding stands (the key's, the second coder's, or another
    code and level) and why. ``key_why`` is the key's new reason for trainees; without it a changed key takes the
    rationale as its why, and a key that keeps its value keeps its why."""

    turn: str
    choice: Choice
    rationale: str
    code: str | None = None
    empathy: int | None = None
    key_why: str | None = None


def decided_value(disagreement: Disagreement, decision: Decision) -> dict[str, Any]:
    """{code, empathy} that the decision puts in the key."""
    if decision.choice == "key":
        return {f: disagreement.key[f] for f in FIELDS}
    if decision.choice == "second":
        return {f: disagreement.second[f] for f in FIELDS}
    if decision.choice == "other":
        if decision.code is None or decision.empathy is None:
            raise AttuneError(f"{decision.turn}: another coding needs both a code and an empathy level.")
        return {"code": decision.code, "empathy": decision.empathy}
    raise AttuneError(f"{decision.turn}: decide for 'key', 'second' or 'other', not {decision.choice!r}.")


def apply_decision(key: Mapping[str, Any], record: Mapping[str, Any], decision: Decision, *,
                   codes: Sequence[str] | None = None,
                   levels: Sequence[int] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(new key, new record) after one decision; the inputs are left as they were. The turn must be a
    disagreement of the record (open or decided before: deciding again replaces the decision), the rationale must
    say something, and the decided code and level must be the rubric's (``codes``, ``levels``) when given."""
    rationale = (decision.rationale or "").strip()
    if not rationale:
        raise AttuneError(f"{decision.turn}: write why this reading wins (the rationale is required).")
    found = {d.turn: d for d in disagreements(record)}
    if decision.turn not in found:
        raise AttuneError(f"{decision.turn}: not a disagreement of {record.get('transcript', 'this record')} "
                          f"(disagreements: {', '.join(found) or 'none'}).")
    value = decided_value(found[decision.turn], decision)
    if codes is not None and value["code"] not in codes:
        raise AttuneError(f"{decision.turn}: code {value['code']!r} is not in the rubric ({', '.join(codes)}).")
    if levels is not None and value["empathy"] not in levels:
        raise AttuneError(f"{decision.turn}: empathy {value['empathy']!r} is not on the rubric's scale "
                          f"({min(levels)}-{max(levels)}).")
    new_record = copy.deepcopy(dict(record))
    resolutions = dict(new_record.get("resolutions") or {})
    resolutions[decision.turn] = {**value, "why": rationale}
    new_record["resolutions"] = resolutions
    new_key = copy.deepcopy(dict(key))
    turns = new_key.get("turns")
    if not isinstance(turns, dict) or decision.turn not in turns or not isinstance(turns[decision.turn], dict):
        raise AttuneError(f"{decision.turn}: the key has no entry for this turn; write it first.")
    entry = dict(turns[decision.turn])
    changed = any(entry.get(f) != value[f] for f in FIELDS)
    entry.update(value)
    if decision.key_why and decision.key_why.strip():
        entry["why"] = decision.key_why.strip()
    elif changed or not entry.get("why"):
        entry["why"] = rationale
    turns[decision.turn] = entry
    return new_key, new_record


# -- writing YAML in place -------------------------------------------------------------------------------------------
def yaml_scalar(value: Any) -> str:
    """One value as YAML: a code such as OQ as it is, a sentence (or a code YAML would misread, like NO) quoted."""
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", value) is not None
        try:
            plain = plain and yaml.safe_load(f"x: {value}") == {"x": value}
        except yaml.YAMLError:
            plain = False
        return value if plain else json.dumps(value, ensure_ascii=False)  # JSON strings are YAML double-quoted
    return yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix("...").strip()


def yaml_flow(value: Mapping[str, Any]) -> str:
    """A mapping on one line: {code: OQ, empathy: 3, why: "..."}."""
    return "{" + ", ".join(f"{k}: {yaml_scalar(v)}" for k, v in value.items()) + "}"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def set_entry(text: str, section: str, item: str, value: Mapping[str, Any]) -> str:
    """``text`` (YAML) with ``section: {item: value}`` set, everything else kept as written: the item's lines are
    replaced (in the style they had: one flow line, or a block of ``field: value`` lines), or added at the end of
    the section (as one flow line), or the section is added at the end of the file."""
    lines = text.splitlines()
    head = re.compile(rf"^{re.escape(section)}:\s*(.*)$")
    start = next((i for i, line in enumerate(lines) if head.match(line)), None)
    if start is None:
        body = [f"{section}:", f"  {item}: {yaml_flow(value)}"]
        return "\n".join([*lines, *body]) + "\n"
    rest = head.match(lines[start]).group(1).split("#", 1)[0].strip()  # type: ignore[union-attr]
    if rest not in ("", "{}", "null", "~"):  # a flow mapping on the section's own line: rewrite the section
        data = yaml.safe_load(f"x: {rest}")["x"] or {}
        data[item] = dict(value)
        block = [f"{section}:", *(f"  {k}: {yaml_flow(v)}" for k, v in data.items())]
        return "\n".join([*lines[:start], *block, *lines[start + 1:]]) + "\n"
    if rest:
        lines[start] = f"{section}:"
    end = start + 1  # the section's block: indented lines, blank lines and comments inside it
    last = start
    while end < len(lines) and (not _significant(lines[end]) or _indent(lines[end]) > 0):
        if _significant(lines[end]):
            last = end
        end += 1
    children = [i for i in range(start + 1, last + 1) if _significant(lines[i])]
    child_indent = min((_indent(lines[i]) for i in children), default=2)
    entry = re.compile(rf"^ {{{child_indent}}}{re.escape(item)}:(\s.*|)$")
    at = next((i for i in children if _indent(lines[i]) == child_indent and entry.match(lines[i])), None)
    pad = " " * child_indent
    if at is None:
        return "\n".join([*lines[:last + 1], f"{pad}{item}: {yaml_flow(value)}", *lines[last + 1:]]) + "\n"
    stop = at + 1
    while stop <= last and (not _significant(lines[stop]) or _indent(lines[stop]) > child_indent):
        stop += 1
    while stop - 1 > at and not _significant(lines[stop - 1]):
        stop -= 1  # blank lines and comments before the next entry stay with it
    inline = entry.match(lines[at]).group(1).strip()  # type: ignore[union-attr]
    if inline.startswith("{"):
        new = [f"{pad}{item}: {yaml_flow(value)}"]
    else:
        fields = [i for i in range(at + 1, stop) if _significant(lines[i])]
        inner = " " * (min((_indent(lines[i]) for i in fields), default=child_indent + 2))
        new = [f"{pad}{item}:", *(f"{inner}{k}: {yaml_scalar(v)}" for k, v in value.items())]
    return "\n".join([*lines[:at], *new, *lines[stop:]]) + "\n"


def edited_text(text: str, section: str, item: str, data: Mapping[str, Any]) -> str:
    """``text`` with ``data[section][item]`` written in place, checked: the result must read back as ``data``.
    If an unusual layout defeats the in-place edit, the whole file is written afresh (comments are then lost)."""
    try:
        result = set_entry(text, section, item, data[section][item])
        if yaml.safe_load(result) == data:
            return result
    except (yaml.YAMLError, AttributeError, TypeError):
        pass
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=110)


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once: a temporary file beside it, then os.replace."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- the file adapter ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One second-coding record of a transcript, the key file it defends, and both as they are on disk."""

    record_path: Path
    key_path: Path
    record: dict
    key: dict

    @property
    def name(self) -> str:
        return record_name(self.record_path)

    @property
    def coder(self) -> str | None:
        return record_coder(self.record_path)


def cases(transcript: str, root: Path | None = None) -> list[Case]:
    """Every second-coding record of ``transcript`` in the course folder (default: around the current folder)."""
    root = find_course_root(root)
    found = [Case(p, key_for_record(p, root), load_yaml(p), load_yaml(key_for_record(p, root)))
             for p in course_record_files(root) if record_transcript(p) == transcript]
    if not found:
        raise AttuneError(f"no second-coding record of {transcript!r} in {root} (keys/second-coding/ or "
                          f"solutions/*/keys/second-coding/); make one with `attune second-coding {transcript} "
                          "--coder NAME`.")
    return found


def adjudicate(case: Case, decisions: Iterable[Decision], *, codes: Sequence[str] | None = None,
               levels: Sequence[int] | None = None) -> Case:
    """Apply ``decisions`` to the record and key of ``case`` as they are on disk now, then write the key and then
    the record, each atomically; return the case as written. Nothing is written if any decision is refused."""
    if codes is None or levels is None:
        from course.rubric import load_rubric

        rubric = load_rubric()
        codes = rubric.code_ids if codes is None else codes
        levels = rubric.empathy_levels if levels is None else levels
    key_text = case.key_path.read_text(encoding="utf-8")
    record_text = case.record_path.read_text(encoding="utf-8")
    key, record = load_yaml(case.key_path), load_yaml(case.record_path)
    for decision in decisions:
        key, record = apply_decision(key, record, decision, codes=codes, levels=levels)
        key_text = edited_text(key_text, "turns", decision.turn, key)
        record_text = edited_text(record_text, "resolutions", decision.turn, record)
    atomic_write(case.key_path, key_text)  # the key first: a record never says resolved before the key has it
    atomic_write(case.record_path, record_text)
    return Case(case.record_path, case.key_path, record, key)
