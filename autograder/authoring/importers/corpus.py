"""Research corpora as CSV or TSV: one row per utterance, many transcripts per file, optional annotation columns.

The caller names the columns (transcript id, position, speaker, text, optionally annotator) and which speaker labels
are the listener's and which the client's. For each corpus transcript this writes, in a course folder:

    content/transcripts/<id>.yaml                   the transcript, validated (ids: "<prefix>-<slug of the corpus id>")
    keys/<id>.yaml                                  with a mapping file: the key draft, the key annotator's codes
                                                    and levels, `why: ""` left for the instructor to write
    keys/second-coding/<id>.yaml                    one other annotator: a second-coding record
                                                    (autograder.instructor.second_coding), first = the key
                                                    annotator's coding, second = the other annotator's
    keys/second-coding/<id>.<annotator>.yaml        more than two annotators in the corpus: one record per other
                                                    annotator, always named this way

Consecutive rows of one speaker become one turn. A listener utterance that no mapping rule covers (or that more
than one covers), and a merged turn whose rows carry different codes, are reported and left out of the key and the
records: never guessed. Nothing is written unless every transcript validates, and no file is replaced without
``force``.

The mapping file (YAML) turns label values into the rubric's codes and levels; a label may span several columns:

    codes:
      - {when: {reflection: "yes", reflection_type: "complex"}, code: CR}
      - {when: {question: "yes", question_type: [open, "open-ended"]}, code: OQ}   # a list: any of these values
    empathy: {column: empathy}                      # optional; the values must be levels of the rubric in force
    # empathy: {column: empathy_label, values: {low: 1, medium: 3, high: 5}}     # or named values

Values compare after trimming spaces and ignoring case; YAML's yes/no stay text here (no booleans).

The core is pure (:func:`parse_mapping`, :func:`plan_corpus`); :func:`import_corpus` is the thin file adapter.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args

import yaml

from course.errors import AttuneError
from course.loading import ContentError, validate
from course.transcript import Tier, Transcript

TRANSCRIPTS = Path("content") / "transcripts"
KEYS = Path("keys")
SECOND_CODING = KEYS / "second-coding"  # the folder name autograder.instructor.second_coding reads
DEFAULT_PREFIX = "corpus"
DEFAULT_TITLE_PREFIX = "Corpus transcript"
SNIFF_BYTES = 64 * 1024
MAX_LISTED = 20  # errors listed one by one before "... and N more"

# What YAML cannot hold even quoted (C0/C1 controls but tab, LF, CR and NEL; DEL; surrogates; U+FFFE/U+FFFF): removed
# from texts, so that writing them needs no YAML library (see _transcript_text).
_NOT_YAML = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# -- what the caller chooses -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusColumns:
    """The corpus's column names (as in its header row) for each thing the importer reads."""

    transcript: str
    position: str
    speaker: str
    text: str
    annotator: str | None = None


@dataclass(frozen=True)
class CodeRule:
    when: tuple[tuple[str, frozenset[str]], ...]  # (column, the normalised values that match), all must match
    code: str
    line: int  # in the mapping file, for errors


@dataclass(frozen=True)
class EmpathyRule:
    column: str
    values: Mapping[str, int]  # normalised label -> level; empty: the cell holds the level itself
    line: int
    levels: tuple[int, ...]  # the rubric's scale


@dataclass(frozen=True)
class LabelMapping:
    source: str  # the mapping file, for errors
    codes: tuple[CodeRule, ...]
    empathy: EmpathyRule | None = None

    def columns(self) -> dict[str, int]:
        """Every column a rule names, with the line of the first rule naming it."""
        found: dict[str, int] = {}
        for rule in self.codes:
            for column, _ in rule.when:
                found.setdefault(column, rule.line)
        if self.empathy is not None:
            found.setdefault(self.empathy.column, self.empathy.line)
        return found


# -- what comes back -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """Something left out and why: the importer reports it rather than guess."""

    transcript: str  # the id written (corpus id in brackets in the message)
    turn: str | None
    line: int | None  # the row's line in the corpus file
    message: str

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.transcript, self.turn, f"line {self.line}" if self.line else None) if x)
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    source: str
    transcripts: int = 0
    turns: int = 0
    listener_turns: int = 0
    utterances: int = 0
    rows: int = 0
    coded: int = 0  # listener turns with a code in the key draft
    uncovered: int = 0  # listener rows no rule covers, or more than one covers (every annotator)
    conflicts: int = 0  # merged turns whose rows disagree (every annotator)
    annotators: tuple[str, ...] = ()
    key_annotator: str | None = None
    problems: list[Problem] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what looks like contact details or a date of birth

    def format(self, limit: int = 50) -> str:
        """The report as printed: counts, files written, then the problems (the first ``limit``)."""
        lines = [f"{self.source}: {self.rows} rows, {self.utterances} utterances -> {self.transcripts} transcripts, "
                 f"{self.turns} turns ({self.listener_turns} listener turns)."]
        if self.annotators:
            lines.append(f"Annotators: {', '.join(self.annotators)}; the key drafts are {self.key_annotator}'s.")
        if self.coded or self.uncovered or self.conflicts:
            lines.append(f"Coded {self.coded} of {self.listener_turns} listener turns in the key drafts; "
                         f"{self.uncovered} utterance(s) no rule or several rules cover, {self.conflicts} merged "
                         "turn(s) whose rows disagree (left out, listed below).")
        if self.written:
            folders = sorted({str(p.parent) for p in self.written})
            lines.append(f"Wrote {len(self.written)} files in {', '.join(folders)}.")
            lines.append("Before using them: pseudonymise names, places and dates in the texts, write each "
                         "transcript's context and each key's why:.")
        if self.warnings:
            lines.append(f"WARNING: {len(self.warnings)} place(s) look like an e-mail address, a phone number or a "
                         "date of birth; pseudonymise them (--names) or edit the transcripts:")
            lines += [f"  - {w}" for w in self.warnings[:limit]]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  - {p}" for p in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


@dataclass
class CorpusPlan:
    """Everything an import would write, by path relative to the course folder, and its report."""

    transcripts: dict[str, dict[str, Any]]  # id -> transcript data
    files: dict[Path, str]  # relative path -> text (transcripts, keys, second-coding records)
    report: ImportReport


# -- the mapping file (pure) -----------------------------------------------------------------------------------------
def _norm(value: str) -> str:
    return value.strip().casefold()


def parse_mapping(text: str, source: str, codes: Sequence[str], levels: Sequence[int]) -> LabelMapping:
    """The mapping file's rules, checked against the rubric in force (``codes``, ``levels``); ContentError naming
    ``source`` and the line of any problem. Scalars are read as text, so `yes` is "yes", never True."""

    def fail(node: yaml.Node | None, message: str) -> ContentError:
        where = f" line {node.start_mark.line + 1}:" if node is not None else ""
        return ContentError(f"{source}:{where} {message}")

    def entries(node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise fail(node, f"{what} must be a mapping (key: value).")
        seen: set[str] = set()
        found = []
        for key_node, value_node in node.value:
            key = scalar(key_node, f"a key of {what}")
            if key in seen:
                raise fail(key_node, f"the key {key!r} appears twice in {what}; keep one.")
            seen.add(key)
            found.append((key, key_node, value_node))
        return found

    def scalar(node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise fail(node, f"{what} must be a single value.")
        return str(node.value)

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark else ""
        raise ContentError(f"{source}:{where} not valid YAML ({getattr(err, 'problem', err)}).") from None
    if root is None:
        raise ContentError(f"{source}: empty; write codes: (and optionally empathy:).")
    rules: list[CodeRule] = []
    empathy: EmpathyRule | None = None
    for key, key_node, value in entries(root, "the mapping file"):
        if key == "codes":
            if not isinstance(value, yaml.SequenceNode):
                raise fail(value, "codes: must be a list of rules, each {when: {column: value, ...}, code: XX}.")
            for rule_node in value.value:
                rules.append(_code_rule(rule_node, entries, scalar, fail, codes))
        elif key == "empathy":
            empathy = _empathy_rule(value, entries, scalar, fail, levels)
        else:
            raise fail(key_node, f"unknown key {key!r}; the mapping file has codes: and empathy:.")
    if not rules and empathy is None:
        raise ContentError(f"{source}: no rules; write codes: (and optionally empathy:).")
    return LabelMapping(source, tuple(rules), empathy)


def _code_rule(node: yaml.Node, entries: Any, scalar: Any, fail: Any, codes: Sequence[str]) -> CodeRule:
    parts = dict((k, (kn, v)) for k, kn, v in entries(node, "a code rule"))
    unknown = sorted(set(parts) - {"when", "code"})
    if unknown or "when" not in parts or "code" not in parts:
        raise fail(node, "a code rule is {when: {column: value, ...}, code: XX}"
                         + (f"; unknown key(s): {', '.join(unknown)}" if unknown else ""))
    code_node = parts["code"][1]
    code = scalar(code_node, "code")
    if code not in codes:
        raise fail(code_node, f"code {code!r} is not in the rubric in force ({', '.join(codes)}).")
    when = []
    for column, _column_node, value in entries(parts["when"][1], "when"):
        if isinstance(value, yaml.SequenceNode):
            accepted = frozenset(_norm(scalar(v, f"a value of {column}")) for v in value.value)
        else:
            accepted = frozenset({_norm(scalar(value, f"the value of {column}"))})
        when.append((column, accepted))
    if not when:
        raise fail(parts["when"][1], "when: names no column; a rule needs at least one.")
    return CodeRule(tuple(when), code, node.start_mark.line + 1)


def _empathy_rule(node: yaml.Node, entries: Any, scalar: Any, fail: Any, levels: Sequence[int]) -> EmpathyRule:
    parts = {k: v for k, _kn, v in entries(node, "empathy")}
    unknown = sorted(set(parts) - {"column", "values"})
    if unknown or "column" not in parts:
        raise fail(node, "empathy: is {column: NAME} or {column: NAME, values: {label: level, ...}}"
                         + (f"; unknown key(s): {', '.join(unknown)}" if unknown else ""))
    values: dict[str, int] = {}
    if "values" in parts:
        for label, _label_node, level_node in entries(parts["values"], "values"):
            level = _level(scalar(level_node, f"the level of {label!r}"), levels)
            if level is None:
                raise fail(level_node, f"{label!r}: {scalar(level_node, 'level')!r} is not a level of the rubric in "
                                       f"force ({', '.join(map(str, levels))}).")
            values[_norm(label)] = level
    return EmpathyRule(scalar(parts["column"], "column"), values, node.start_mark.line + 1, tuple(levels))


def _level(value: str, levels: Sequence[int]) -> int | None:
    """The level a cell names ("3", "3.0"), or None if it names none on the scale."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and int(number) in levels else None


# -- the corpus (pure) -----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Coding:
    """One annotator's reading of one listener row."""

    line: int
    code: str | None
    empathy: int | None
    issue: str | None = None  # why no code: uncovered / covered by several rules
    values: str = ""  # the label cells, for the report of an issue


@dataclass(slots=True)
class _Utterance:
    line: int
    speaker: str  # client | therapist
    text: str
    codings: dict[str, _Coding] = field(default_factory=dict)  # annotator -> coding ("" without annotators)


def slug(value: str) -> str:
    """A lowercase-hyphen id from any corpus id ("Session 12/B" -> "session-12-b")."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def plan_corpus(header: Sequence[str], rows: Iterable[tuple[int, Sequence[str]]], *, source: str,
                columns: CorpusColumns, listener: Sequence[str], client: Sequence[str],
                mapping: LabelMapping | None = None, key_annotator: str | None = None,
                prefix: str = DEFAULT_PREFIX, title_prefix: str = DEFAULT_TITLE_PREFIX,
                tier: str = "intermediate", client_name: str = "Client", listener_name: str = "Counsellor",
                delimiter: str | None = None, replace_names: Callable[[str], str] | None = None) -> CorpusPlan:
    """What importing the corpus would write: ``rows`` are (line in the file, cells) after the ``header`` row.

    ContentError (naming ``source``, or the mapping file, and lines) for what a person must fix before anything is
    written: a missing column, an unmapped speaker label, a bad position, an utterance given twice, an empathy
    value off the scale, a transcript that does not validate. What is only left out is in the report's problems.
    """
    index = _column_index(header, columns, mapping, source, delimiter)
    speakers = {_norm(label): "therapist" for label in listener} | {_norm(label): "client" for label in client}
    both = sorted({_norm(x) for x in listener} & {_norm(x) for x in client})
    if both:
        raise AttuneError(f"speaker label(s) given as both listener and client: {', '.join(both)}.")
    if tier not in get_args(Tier):
        raise AttuneError(f"tier {tier!r}: choose one of {', '.join(get_args(Tier))}.")
    report = ImportReport(source=source)
    corpus, annotators, errors = _read_rows(rows, len(header), index, speakers, mapping, key_annotator, report,
                                            replace_names)
    if errors:
        raise ContentError(_listing(f"{source}: {len(errors)} problem(s) to fix before anything is written:", errors))
    if columns.annotator is not None:
        report.annotators = tuple(sorted(annotators))
        if key_annotator is None and mapping is None:
            key_annotator = min(annotators, default=None)  # no codes to choose between: only the texts are written
        elif key_annotator is None:
            if len(annotators) > 1:
                raise AttuneError(f"{source}: several annotators ({', '.join(report.annotators)}); choose whose "
                                  "codes become the key drafts (key_annotator, --key-annotator).")
            key_annotator = next(iter(annotators), None)
        elif key_annotator not in annotators:
            raise AttuneError(f"{source}: no rows by the key annotator {key_annotator!r} in the column "
                              f"{columns.annotator!r}; annotators found: {', '.join(report.annotators) or 'none'}.")
        report.key_annotator = key_annotator
    key_by = key_annotator if columns.annotator is not None else ""
    others = sorted(a for a in annotators if a != key_by)
    ids = _ids(list(corpus), prefix, source)
    report.problems = [replace(p, transcript=ids.get(p.transcript, p.transcript)) for p in report.problems]
    plan = CorpusPlan({}, {}, report)
    invalid: list[str] = []
    for corpus_id, utterances in corpus.items():
        transcript_id = ids[corpus_id]
        data, turn_rows = _transcript(transcript_id, corpus_id, utterances, report, title_prefix, tier,
                                      client_name, listener_name, source)
        try:
            validate(data, Transcript, TRANSCRIPTS / f"{transcript_id}.yaml")
        except ContentError as err:
            invalid.append(f"{err} (corpus transcript {corpus_id!r}, from line {utterances[min(utterances)].line})")
            continue
        plan.transcripts[transcript_id] = data
        plan.files[TRANSCRIPTS / f"{transcript_id}.yaml"] = _transcript_text(data)
        report.transcripts += 1
        report.turns += len(data["turns"])
        report.listener_turns += len(turn_rows)
        if mapping is None:
            continue
        codings = {a: _turn_codings(transcript_id, turn_rows, a, report) for a in [key_by, *others]}
        key = codings[key_by]
        report.coded += len(key)
        if key:
            plan.files[KEYS / f"{transcript_id}.yaml"] = _key_text(transcript_id, key)
        elif turn_rows:
            report.problems.append(Problem(transcript_id, None, None, "no listener turn coded; no key draft written"))
        for other in others:
            if not any(other in u.codings for u in utterances.values()):
                continue  # this annotator did not code this transcript
            shared = [t for t in key if t in codings[other]]
            name = f"{transcript_id}.{slug(other) or 'annotator'}.yaml" if len(others) > 1 else f"{transcript_id}.yaml"
            if not shared:
                report.problems.append(Problem(transcript_id, None, None, f"no turn coded by both {key_by} and "
                                               f"{other}; no second-coding record"))
                continue
            plan.files[SECOND_CODING / name] = _record_text(transcript_id, source, key_by, other,
                                                            {t: key[t] for t in shared},
                                                            {t: codings[other][t] for t in shared})
    if invalid:
        raise ContentError(_listing(f"{source}: {len(invalid)} transcript(s) do not validate; nothing written:",
                                    invalid))
    return plan


def _column_index(header: Sequence[str], columns: CorpusColumns, mapping: LabelMapping | None, source: str,
                  delimiter: str | None) -> dict[str, int]:
    """Where each column the import reads is; an error naming what is missing and what the header has."""
    names = [h.strip() for h in header]
    position = {name: i for i, name in reversed(list(enumerate(names)))}  # the first of a repeated name
    wanted = {"transcript": columns.transcript, "position": columns.position, "speaker": columns.speaker,
              "text": columns.text}
    if columns.annotator is not None:
        wanted["annotator"] = columns.annotator
    read_as = f" (read with the delimiter {delimiter!r})" if delimiter else ""
    missing = [f"{role} column {name!r}" for role, name in wanted.items() if name not in position]
    if missing:
        raise ContentError(f"{source}: no {', no '.join(missing)}; the header has: {', '.join(names)}{read_as}.")
    index = {role: position[name] for role, name in wanted.items()}
    if mapping is not None:
        absent = [(column, line) for column, line in mapping.columns().items() if column not in position]
        if absent:
            where = "; ".join(f"line {line}: column {column!r}" for column, line in absent)
            raise ContentError(f"{mapping.source}: {where}: not in {source}, whose header has: "
                               f"{', '.join(names)}{read_as}.")
        index |= {f"label:{column}": position[column] for column in mapping.columns()}
    return index


def _read_rows(rows: Iterable[tuple[int, Sequence[str]]], header_width: int, index: dict[str, int],
               speakers: dict[str, str], mapping: LabelMapping | None, key_annotator: str | None,
               report: ImportReport, replace_names: Callable[[str], str] | None = None,
               ) -> tuple[dict[str, dict[int, _Utterance]], set[str], list[str]]:
    """The utterances of each corpus transcript by position, every annotator's coding of each; and the errors."""
    corpus: dict[str, dict[int, _Utterance]] = {}
    annotators: set[str] = set()
    errors: list[str] = []
    unknown_labels: dict[str, int] = {}  # label -> first line
    off_scale: dict[str, int] = {}
    i_tr, i_pos, i_sp, i_text = index["transcript"], index["position"], index["speaker"], index["text"]
    i_ann = index.get("annotator")
    width = max(index.values()) + 1
    rules = _compiled(mapping, index)
    for line, cells in rows:
        if len(cells) < width:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            cells = [*cells, *[""] * (width - len(cells))]
        elif len(cells) > header_width:
            # An unquoted delimiter inside a text splits it: reading on would cut the text short, silently.
            errors.append(f"line {line}: {len(cells)} cells, the header has {header_width}; quote the cells that "
                          "hold the delimiter")
            continue
        report.rows += 1
        corpus_id, raw_position, label = cells[i_tr].strip(), cells[i_pos].strip(), cells[i_sp].strip()
        annotator = cells[i_ann].strip() if i_ann is not None else ""
        speaker = speakers.get(_norm(label))
        if speaker is None:
            unknown_labels.setdefault(label, line)
            continue
        if not corpus_id:
            errors.append(f"line {line}: no transcript id")
            continue
        position = _position(raw_position)
        if position is None:
            errors.append(f"line {line}: position {raw_position!r} is not a whole number")
            continue
        annotators.add(annotator)
        utterances = corpus.setdefault(corpus_id, {})
        text = _clean(cells[i_text])
        if replace_names is not None:  # pseudonymised before anything else sees the text
            text = replace_names(text)
        utterance = utterances.get(position)
        if utterance is None:
            utterance = utterances[position] = _Utterance(line, speaker, text)
        else:
            if annotator in utterance.codings or i_ann is None:
                first = utterance.codings[annotator].line if annotator in utterance.codings else utterance.line
                who = f" by {annotator}" if annotator else ""
                errors.append(f"line {line}: transcript {corpus_id!r} position {position} given twice{who} "
                              f"(first on line {first})")
                continue
            if utterance.speaker != speaker:
                errors.append(f"line {line}: transcript {corpus_id!r} position {position} is spoken by the "
                              f"{speaker} here, by the {utterance.speaker} on line {utterance.line}")
                continue
            if text != utterance.text:
                kept = "this line's" if annotator == key_annotator else f"line {utterance.line}'s"
                report.problems.append(Problem(corpus_id, None, line, f"position {position}: the text differs "
                                               f"from line {utterance.line}'s; kept {kept}"))
                if annotator == key_annotator:  # the key annotator's text is the one shown with the key
                    utterance.text, utterance.line = text, line
        if speaker == "therapist" and mapping is not None:
            utterance.codings[annotator] = _code(cells, line, rules, mapping.empathy, index, off_scale)
        else:
            utterance.codings[annotator] = _Coding(line, None, None)
    if unknown_labels:
        known = ", ".join(sorted(speakers)) or "none"
        found = "; ".join(f"{label!r} (first on line {line})" for label, line in unknown_labels.items())
        errors.insert(0, f"speaker label(s) neither listener nor client: {found}. Mapped: {known}; add each to "
                         "the listener or the client labels")
    if off_scale and mapping is not None and mapping.empathy is not None:
        found = "; ".join(f"{value!r} (first on line {line})" for value, line in off_scale.items())
        hint = ("add them to values: in the mapping file" if mapping.empathy.values else
                "map them with values: {label: level} in the mapping file")
        errors.insert(0, f"empathy column {mapping.empathy.column!r}: value(s) not on the rubric's scale: {found}; "
                         f"{hint} ({mapping.source}, line {mapping.empathy.line})")
    return corpus, annotators, errors


def _clean(text: str) -> str:
    """One line of printable text: cells may hold line breaks, runs of spaces and stray control characters."""
    return " ".join(_NOT_YAML.sub("", text).split())


def _position(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None


@dataclass(frozen=True)
class _Compiled:
    """The rules with column positions instead of names: they run once per listener row."""

    rules: tuple[tuple[tuple[tuple[int, frozenset[str]], ...], str], ...]
    shown: tuple[tuple[str, int], ...]  # the label columns, to report a row's values
    used: tuple[int, ...]  # the columns the code rules read


def _compiled(mapping: LabelMapping | None, index: dict[str, int]) -> _Compiled:
    if mapping is None:
        return _Compiled((), (), ())
    rules = tuple((tuple((index[f"label:{c}"], values) for c, values in rule.when), rule.code)
                  for rule in mapping.codes)
    used = tuple(sorted({i for when, _ in rules for i, _ in when}))
    return _Compiled(rules, tuple((c, index[f"label:{c}"]) for c in mapping.columns()), used)


def _code(cells: Sequence[str], line: int, rules: _Compiled, empathy: EmpathyRule | None, index: dict[str, int],
          off_scale: dict[str, int]) -> _Coding:
    """One listener row's code (exactly one rule must match) and level."""
    cell = {i: _norm(cells[i]) for i in rules.used}  # each label cell once, whatever the number of rules
    matched = [code for when, code in rules.rules if all(cell[i] in values for i, values in when)]
    level = None
    if empathy is not None:
        raw = cells[index[f"label:{empathy.column}"]].strip()
        if raw:
            level = empathy.values.get(_norm(raw)) if empathy.values else _level(raw, empathy.levels)
            if level is None:
                off_scale.setdefault(raw, line)
    if len(matched) == 1:
        return _Coding(line, matched[0], level)
    issue = "no rule covers it" if not matched else f"several rules cover it ({', '.join(matched)})"
    shown = ", ".join(f"{column}={cells[i].strip()!r}" for column, i in rules.shown)
    return _Coding(line, None, level, issue, shown)


def _ids(corpus_ids: list[str], prefix: str, source: str) -> dict[str, str]:
    """Each corpus id's transcript id; two corpus ids with one slug, or none, is an error."""
    ids: dict[str, str] = {}
    by_id: dict[str, str] = {}
    problems = []
    head = slug(prefix)
    for corpus_id in corpus_ids:
        tail = slug(corpus_id)
        if not tail:
            problems.append(f"transcript id {corpus_id!r} has no letter or digit to make an id of")
            continue
        new = f"{head}-{tail}" if head else tail
        if new in by_id:
            problems.append(f"transcript ids {by_id[new]!r} and {corpus_id!r} both become {new!r}")
        by_id[new] = corpus_id
        ids[corpus_id] = new
    if problems:
        raise ContentError(_listing(f"{source}: {len(problems)} transcript id problem(s):", problems))
    return ids


def _transcript(transcript_id: str, corpus_id: str, utterances: dict[int, _Utterance], report: ImportReport,
                title_prefix: str, tier: str, client_name: str, listener_name: str,
                source: str) -> tuple[dict[str, Any], dict[str, list[_Utterance]]]:
    """The transcript's data (consecutive rows of one speaker merged into a turn) and the rows of each listener
    turn, by turn id."""
    turns: list[dict[str, str]] = []
    turn_rows: dict[str, list[_Utterance]] = {}
    counts = {"client": 0, "therapist": 0}
    last: _Utterance | None = None
    for position in sorted(utterances):
        utterance = utterances[position]
        report.utterances += 1
        if not utterance.text:
            report.problems.append(Problem(transcript_id, None, utterance.line, f"position {position}: no text; "
                                           "left out"))
            continue
        if last is not None and last.speaker == utterance.speaker:
            turns[-1]["text"] += " " + utterance.text
        else:
            counts[utterance.speaker] += 1
            letter = "T" if utterance.speaker == "therapist" else "C"
            turns.append({"id": f"{letter}{counts[utterance.speaker]}", "speaker": utterance.speaker,
                          "text": utterance.text})
        if utterance.speaker == "therapist":
            turn_rows.setdefault(turns[-1]["id"], []).append(utterance)
        last = utterance
    first_line = utterances[min(utterances)].line
    data = {"id": transcript_id, "title": f"{title_prefix} {corpus_id}".strip(), "tier": tier,
            "client": client_name, "therapist": listener_name,
            "context": f"Imported from {Path(source).name}, transcript {corpus_id} (from line {first_line}). "
                       "Replace this with what trainees need to know about the client and the session.",
            "turns": turns}
    return data, turn_rows


def _turn_codings(transcript_id: str, turn_rows: dict[str, list[_Utterance]], annotator: str,
                  report: ImportReport) -> dict[str, tuple[str, int | None]]:
    """One annotator's (code, level) of each listener turn it codes unambiguously; the rest reported."""
    who = f" by {annotator}" if annotator else ""
    coded: dict[str, tuple[str, int | None]] = {}
    for turn, rows in turn_rows.items():
        codings = [u.codings.get(annotator) for u in rows]
        if all(c is None for c in codings):
            continue  # this annotator did not code this transcript, or this turn
        problem = False
        for utterance, coding in zip(rows, codings, strict=True):
            if coding is None:
                report.uncovered += 1
                report.problems.append(Problem(transcript_id, turn, utterance.line, f"no row{who} for this "
                                               "utterance; turn left out"))
                problem = True
            elif coding.issue:
                report.uncovered += 1
                report.problems.append(Problem(transcript_id, turn, coding.line, f"{coding.issue}{who}: "
                                               f"{coding.values}; turn left out"))
                problem = True
        if problem:
            continue
        codes = list(dict.fromkeys(c.code for c in codings if c is not None))
        levels = list(dict.fromkeys(c.empathy for c in codings if c is not None and c.empathy is not None))
        if len(codes) > 1 or len(levels) > 1:
            report.conflicts += 1
            lines = ", ".join(str(c.line) for c in codings if c is not None)
            report.problems.append(Problem(transcript_id, turn, None, f"its rows (lines {lines}) merge into one "
                                           f"turn but were coded differently{who}: codes {', '.join(codes)}"
                                           f"{'; levels ' + ', '.join(map(str, levels)) if levels else ''}; "
                                           "turn left out (split the turn or choose in the key)"))
            continue
        coded[turn] = (str(codes[0]), levels[0] if levels else None)
    return coded


# -- writing (text only: the adapter writes it) ----------------------------------------------------------------------
def _quoted(text: str) -> str:
    # A JSON string is a YAML double-quoted scalar (its escapes are YAML's too), once _NOT_YAML is out of the text.
    return json.dumps(_NOT_YAML.sub("", text), ensure_ascii=False)


def _transcript_text(data: dict[str, Any]) -> str:
    """The transcript as YAML, written directly: PyYAML's representer (Python even with the C dumper) took half
    the time of a 2,000-transcript import. Every string is quoted, so 'yes', 'null' or '- ' stay text."""
    lines = [f"{key}: {_quoted(str(data[key]))}" for key in ("id", "title", "tier", "client", "therapist", "context")]
    lines.append("turns:")
    for turn in data["turns"]:
        lines += [f"  - id: {turn['id']}", f"    speaker: {turn['speaker']}", f"    text: {_quoted(turn['text'])}"]
    return "\n".join(lines) + "\n"


def _level_text(level: int | None) -> str:
    return "null" if level is None else str(level)


def _key_text(transcript_id: str, key: dict[str, tuple[str, int | None]]) -> str:
    # Written by hand: codes and turn ids are validated tokens, and this is the file an instructor edits.
    lines = ["# Key draft imported from a corpus: the key annotator's codes. Write each why: (trainees learn from",
             "# it; `attune build` refuses an empty one) and check every code before building.",
             f"transcript: {transcript_id}", "turns:"]
    for turn, (code, level) in key.items():
        lines += [f"  {turn}:", f"    code: {code}", f"    empathy: {_level_text(level)}", '    why: ""']
    return "\n".join(lines) + "\n"


def _record_text(transcript_id: str, source: str, first_by: str, second_by: str,
                 first: dict[str, tuple[str, int | None]], second: dict[str, tuple[str, int | None]]) -> str:
    def block(coding: dict[str, tuple[str, int | None]]) -> list[str]:
        return [f"  {t}: {{code: {c}, empathy: {_level_text(e)}}}" for t, (c, e) in coding.items()]

    return "\n".join([f"# Imported from {Path(source).name}: first = {first_by}'s coding (the key draft's), "
                      f"second = {second_by}'s.", f"transcript: {transcript_id}", "first:", *block(first),
                      "second:", *block(second),
                      "# One per turn where the codings differ: the value that stands in the key, and why.",
                      "resolutions: {}"]) + "\n"


def _listing(title: str, items: Sequence[str]) -> str:
    lines = [title, *[f"  - {item}" for item in items[:MAX_LISTED]]]
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED} more")
    return "\n".join(lines)


# -- the file adapter ------------------------------------------------------------------------------------------------
def read_corpus_text(path: Path) -> str:
    """The file's text: UTF-8 with or without a byte-order mark; anything else is an error naming the encoding
    the bytes look like, with the command that converts them."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        guesses = _guess_encodings(data)
        guess = guesses[0] if guesses else None
        named = (f"charset-normalizer guesses {guess}" + (f" (also possible: {', '.join(guesses[1:])})"
                                                           if guesses[1:] else "")
                 if guess else "its encoding could not be guessed")
        line = data.count(b"\n", 0, err.start) + 1
        raise ContentError(f"{path}: line {line}: not UTF-8 (byte {data[err.start:err.start + 1]!r}); {named}. "
                           f"Convert it first, e.g. iconv -f {guess or 'ENCODING'} -t UTF-8 {path.name} > "
                           f"{path.stem}-utf8{path.suffix}") from None


def _guess_encodings(data: bytes) -> list[str]:
    """charset-normalizer's guesses, most likely first: short files often fit several code pages."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: the error still says the file is not UTF-8
        return []
    return [match.encoding for match in from_bytes(data[:SNIFF_BYTES * 4])][:5]


def sniff_delimiter(path: Path, text: str) -> str:
    """The file's delimiter: tab for .tsv/.tab, else what the stdlib sniffs among , ; tab and | (comma if unsure).

    Only the delimiter is taken from the sniffer: its guess of the quoting is unreliable (a cell holding ""quoted""
    words can make it drop doubled quotes), and corpora quote the way spreadsheets do (RFC 4180)."""
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    sample = text[:SNIFF_BYTES]
    if "\n" in sample:
        sample = sample[: sample.rfind("\n")]  # whole lines only: a cut line confuses the sniffer
    try:
        return str(csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter)
    except csv.Error:
        return ","


def corpus_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], str]:
    """The header, the rows with the line each starts on, and the delimiter."""
    text = read_corpus_text(path)
    delimiter = sniff_delimiter(path, text)
    # newline="": csv itself handles CRLF and line breaks inside quoted cells
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ContentError(f"{path}: empty; expected a header row and one row per utterance.") from None
    except csv.Error as err:
        raise ContentError(f"{path}: line 1: {err}") from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as err:
            raise ContentError(f"{path}: line {start}: {err}") from None

    return header, rows(), delimiter


def import_corpus(path: Path | str, *, course_root: Path, columns: CorpusColumns, listener: Sequence[str],
                  client: Sequence[str], mapping_path: Path | str | None = None, key_annotator: str | None = None,
                  prefix: str = DEFAULT_PREFIX, title_prefix: str = DEFAULT_TITLE_PREFIX,
                  tier: str = "intermediate", force: bool = False, names: Path | str | None = None) -> ImportReport:
    """Import a CSV/TSV corpus into ``course_root`` (see the module's docstring for what is written where).
    ``names``: a CSV of real name,pseudonym whose names are replaced in every utterance; afterwards the report's
    warnings list what still looks like an e-mail address, a phone number or a date of birth.

    The rubric in force is the course's (its content/rubric.yaml, else the shipped one). Raises AttuneError
    (ContentError) with nothing written for anything to fix; returns the report (counts, files, problems).
    """
    from course.library import SHIPPED, using
    from course.rubric import load_rubric

    path, root = Path(path), Path(course_root)
    if not path.is_file():
        raise ContentError(f"{path}: file not found.")
    own = root / "content"
    with using(*([own] if own.is_dir() else [])):
        rubric = load_rubric()
    mapping = None
    if mapping_path is not None:
        mapping_path = Path(mapping_path)
        if not mapping_path.is_file():
            raise ContentError(f"{mapping_path}: file not found.")
        mapping = parse_mapping(mapping_path.read_text(encoding="utf-8"), str(mapping_path), rubric.code_ids,
                                rubric.empathy_levels)
    from autograder.authoring.importers.privacy import load_names, replacer, text_warnings

    replace_names = replacer(load_names(Path(names))) if names is not None else None
    header, rows, delimiter = corpus_rows(path)
    plan = plan_corpus(header, rows, source=str(path), columns=columns, listener=listener, client=client,
                       mapping=mapping, key_annotator=key_annotator, prefix=prefix, title_prefix=title_prefix,
                       tier=tier, delimiter=delimiter, replace_names=replace_names)
    plan.report.warnings = [f"{tid}, {turn['id']}: {hit}" for tid, data in plan.transcripts.items()
                            for turn in data["turns"] for hit in text_warnings(turn["text"])]
    shipped = sorted(i for i in plan.transcripts if (SHIPPED / "transcripts" / f"{i}.yaml").is_file())
    if shipped:
        raise ContentError(f"{path}: transcript id(s) of the shipped curriculum: {', '.join(shipped)}; choose "
                           "another prefix.")
    if not force:
        existing = [str(root / rel) for rel in plan.files if (root / rel).exists()]
        if existing:
            raise ContentError(_listing(f"{len(existing)} file(s) exist already; nothing written (pass force, "
                                        "--force, to replace them):", existing))
    for folder in sorted({(root / rel).parent for rel in plan.files}):
        folder.mkdir(parents=True, exist_ok=True)
    for rel, text in plan.files.items():
        (root / rel).write_text(text, encoding="utf-8")
        plan.report.written.append(root / rel)
    return plan.report
