"""The shared core of `attune import`: every format's parser gives utterances (speaker label, text, start, end,
line); one step maps labels to the listener and the client, merges a speaker's consecutive utterances into one
turn, numbers the turns and validates the result as a Transcript before anything is written.

Pure apart from reading the input file and writing the YAML file (in :func:`read_text` and
:func:`write_transcript`), so the parsers and this step are tested on strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from course.errors import AttuneError
from course.transcript import Transcript

# Labels a speech recogniser or a transcription service gives a voice it could not name. Such a voice is never
# taken for the client without being named on the command line: it may be a third person in the room.
UNKNOWN_VOICE = re.compile(r"^(?:speaker|unknown|unknown speaker|guest|participant|voice|spk)(?:[ _-]*\w{1,3})?$",
                           re.IGNORECASE)


class ImportProblem(AttuneError, ValueError):
    """The file cannot be imported as it is; the message names the file and the line of every problem."""


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech as a format gives it (a cue, a labelled line or paragraph, a table row)."""

    speaker: str  # the label as written in the file
    text: str
    start: str | None = None  # HH:MM:SS.mmm
    end: str | None = None
    line: int = 0  # where it starts: a line, or a paragraph or row of a Word document (see Parsed.unit)


@dataclass
class Parsed:
    """What a format's parser found: utterances in spoken order, warnings for the importer to show."""

    source: Path
    utterances: list[Utterance]
    unit: str = "line"  # what Utterance.line counts: "line", "paragraph", "table row"
    warnings: list[str] = field(default_factory=list)

    def where(self, line: int) -> str:
        return f"{self.source}:{self.unit} {line}" if self.unit != "line" else f"{self.source}:{line}"


@dataclass(frozen=True)
class Options:
    """What the command line says about the transcript beyond its file."""

    id: str
    listener: tuple[str, ...]
    client: str | None = None
    title: str | None = None
    tier: str = "beginner"
    context: str | None = None


# ---------------------------------------------------------------------------------------------------- reading


def read_text(path: Path) -> str:
    """The file's text: UTF-8 with or without a byte-order mark, any line endings (made "\\n"). Any other encoding
    is an error naming the encoding it looks like and how to convert it, never text decoded wrongly."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportProblem(f"{path}: file not found.") from None
    except IsADirectoryError:
        raise ImportProblem(f"{path}: is a folder, not a file.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        guesses = _guess_encodings(data)
        looks = f"it looks like {' or '.join(guesses)}" if guesses else "its encoding could not be guessed"
        # Several Windows code pages often fit a short file equally well; Word and Notepad in Western Europe and
        # the Americas write cp1252, so the example uses it when it fits.
        source = "cp1252" if "cp1252" in guesses or not guesses else guesses[0]
        raise ImportProblem(
            f"{path}:{line}: not UTF-8 (byte 0x{data[err.start]:02x}); {looks}. Convert it to UTF-8 and import the "
            f"copy, e.g. `iconv -f {source} -t utf-8 {path} > {path.stem}-utf8{path.suffix}`, and check its accents "
            "(or save it as UTF-8 from your editor).") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _guess_encodings(data: bytes) -> list[str]:
    """The encodings charset-normalizer finds most likely (those that fit as well as the best), at most three."""
    from charset_normalizer import from_bytes  # only on this error path: it takes a while to import

    results = list(from_bytes(data))
    if not results:
        return []
    best = (results[0].chaos, results[0].coherence)
    return [r.encoding for r in results if (r.chaos, r.coherence) == best][:3]


def problems_error(parsed_source: Path, problems: Sequence[str]) -> ImportProblem:
    """One error listing every problem found in a file (each already names its line)."""
    if len(problems) == 1:
        return ImportProblem(problems[0])
    return ImportProblem(f"{parsed_source}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems))


# ------------------------------------------------------------------------------------------------- timestamps

_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")


def clock(value: str) -> str | None:
    """'1:02', '00:01:02', '00:01:02,5' or '0:01:02.500' as HH:MM:SS.mmm; None if it is not a time."""
    match = _CLOCK.match(value.strip())
    if not match:
        return None
    hours, minutes, seconds, fraction = match.groups()
    if int(minutes) > 59 or int(seconds) > 59:
        return None
    millis = int((fraction or "0").ljust(3, "0"))
    return f"{int(hours or 0):02d}:{int(minutes):02d}:{int(seconds):02d}.{millis:03d}"


def from_timedelta(value: timedelta) -> str:
    millis = round(value.total_seconds() * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def timed_cues(source: Path, utterances: list[Utterance], problems: Sequence[str]) -> Parsed:
    """What a subtitle parser (WebVTT, SRT) found: one error for every problem, else its cues in spoken order."""
    if problems:
        raise problems_error(source, problems)
    parsed = Parsed(source, utterances)
    order_cues(parsed)
    return parsed


def order_cues(parsed: Parsed) -> None:
    """Cues in order of their start (a stable sort keeps the file's order for equal starts), with a warning for
    cues that overlap: people talking over each other, which the turns cannot show."""
    parsed.utterances.sort(key=lambda u: u.start or "")
    latest: Utterance | None = None  # the cue that ends last so far
    for cue in parsed.utterances:
        same_cue = latest is not None and (cue.start, cue.end) == (latest.start, latest.end)  # '- ' lines
        if latest is not None and not same_cue and cue.start and latest.end and cue.start < latest.end:
            parsed.warnings.append(
                f"{parsed.where(cue.line)}: this cue ({cue.speaker}, {cue.start} --> {cue.end}) overlaps the cue at "
                f"{parsed.unit} {latest.line} ({latest.speaker}, {latest.start} --> {latest.end}); they are kept in "
                "order of their start. Check that the turns read in the order they were spoken.")
        if latest is None or (cue.end or "") > (latest.end or ""):
            latest = cue


# ---------------------------------------------------------------------------------------------- speaker labels

_LABEL_WORD = r"(?:[A-Z][\w'’.-]*|[0-9]{1,3}|[a-z]{1,3}\.?)"  # Ann, O'Neill, Dr., 2, de, van
LABEL = re.compile(rf"^(?P<label>(?:{_LABEL_WORD})(?: {_LABEL_WORD}){{0,3}})\s*:\s*(?P<text>.*)$")


def split_label(line: str) -> tuple[str, str] | None:
    """('Ann Lee', 'text') for 'Ann Lee: text'; None when the line does not start with a speaker's label.

    A label is up to four words, the first capitalised ("Counsellor", "Ann Lee", "Speaker 2", "CLIENT"), so a
    sentence with a colon in it ("Then she said: go away") is not taken for one."""
    match = LABEL.match(line.strip())
    if not match or match["label"] in ("I", "A"):  # "I thought: ..." is speech, not a speaker
        return None
    first = match["label"].split()[0]
    if not first[0].isupper():
        return None
    return match["label"], match["text"].strip()


def _same(label: str) -> str:
    return " ".join(label.split()).casefold()


@dataclass(frozen=True)
class Mapping:
    """Who is who: the labels of the listener and of the client, and how each is shown."""

    listener: frozenset[str]  # casefolded labels
    client: str  # casefolded label
    therapist_name: str
    client_name: str


def map_speakers(parsed: Parsed, options: Options) -> Mapping:
    """Each label in the file to the listener or the client, from --listener and --client; an error listing the
    labels found (with their first line) and how to name them when a label is not accounted for."""
    found: dict[str, tuple[str, int, int]] = {}  # casefolded label: (as written first, first line, utterances)
    for u in parsed.utterances:
        key = _same(u.speaker)
        written, first, count = found.get(key, (u.speaker, u.line, 0))
        found[key] = (written, first, count + 1)
    listing = "; ".join(f"{w!r} ({parsed.unit} {first}, {n} utterance{'s' * (n != 1)})"
                        for w, first, n in found.values())

    def problem(what: str, how: str) -> ImportProblem:
        return ImportProblem(f"{parsed.source}: {what}. Speakers found: {listing}. {how}")

    example = _example_flags(list(found.values()))
    listener = [_same(name) for name in options.listener if name.strip()]
    if not listener:
        raise problem("--listener names no speaker", f"Name the listener's label, e.g. {example}.")
    missing = [name for name, key in zip(options.listener, listener, strict=False) if key not in found]
    if missing:
        raise problem(f"--listener {missing[0]!r} is not a speaker in this file",
                      f"Use a label as it is written there, e.g. {example}.")
    others = [key for key in found if key not in listener]
    if options.client is not None:
        client = _same(options.client)
        if client not in found:
            raise problem(f"--client {options.client!r} is not a speaker in this file",
                          f"Use a label as it is written there, e.g. {example}.")
        if client in listener:
            raise problem(f"{options.client!r} is named as both the listener and the client",
                          "Name each speaker once.")
        unmapped = [key for key in others if key != client]
    else:
        if not others:
            raise problem("every speaker is the listener, so there is no client",
                          "A transcript needs the client's turns too; check --listener.")
        unknown = [key for key in others if UNKNOWN_VOICE.match(key)]
        if len(others) == 1 and not unknown:
            client, unmapped = others[0], []
        else:
            client, unmapped = "", others
    if unmapped:
        names = ", ".join(repr(found[key][0]) for key in unmapped)
        why = ("unknown voices are never taken for the client without being named"
               if any(UNKNOWN_VOICE.match(key) for key in unmapped) else "a transcript has one listener and one client")
        raise problem(f"speaker(s) {names} are neither the listener nor the client ({why})",
                      "Name the listener's label(s) with --listener (several: --listener \"Ann Lee,Speaker 1\") and "
                      f"the client's with --client, e.g. {example}; or remove a third person's lines from a copy.")
    return Mapping(listener=frozenset(listener), client=client, therapist_name=found[listener[0]][0],
                   client_name=found[client][0])


def _example_flags(found: list[tuple[str, int, int]]) -> str:
    labels = [w for w, _first, _n in found] or ["Counsellor", "Client"]
    flags = f"--listener {_quoted(labels[0])}"
    return flags + (f" --client {_quoted(labels[1])}" if len(labels) > 1 else "")


def _quoted(label: str) -> str:
    return f'"{label}"' if " " in label else label


# ------------------------------------------------------------------------------------------------------- turns


def build_transcript(parsed: Parsed, options: Options) -> Transcript:
    """The Transcript: speakers mapped, a speaker's consecutive utterances merged into one turn (recognisers cut
    turns into many cues), turns numbered C1.. and T1.., timestamps kept; validated (ImportProblem if not)."""
    if not parsed.utterances:
        raise ImportProblem(f"{parsed.source}: no speech found; is it the right file and format?")
    who = map_speakers(parsed, options)
    merged: list[tuple[str, list[Utterance]]] = []  # (speaker, utterances)
    for u in parsed.utterances:
        speaker = "therapist" if _same(u.speaker) in who.listener else "client"
        if merged and merged[-1][0] == speaker:
            previous = merged[-1][1][-1]
            if _words(previous.text) == _words(u.text):  # a cue repeated by the recogniser or a copy-paste
                parsed.warnings.append(f"{parsed.where(u.line)}: repeats {parsed.unit} {previous.line} word for "
                                       "word; kept once.")
                continue
            merged[-1][1].append(u)
        else:
            merged.append((speaker, [u]))
    counts = {"client": 0, "therapist": 0}
    turns = []
    for speaker, parts in merged:
        counts[speaker] += 1
        ends = [p.end for p in parts if p.end]
        turn = {"id": f"{'C' if speaker == 'client' else 'T'}{counts[speaker]}", "speaker": speaker,
                "text": " ".join(" ".join(p.text.split()) for p in parts), "start": parts[0].start,
                "end": max(ends) if ends else None}
        turns.append({k: v for k, v in turn.items() if v is not None})
    data = {"id": options.id, "title": options.title or _default_title(options.id), "tier": options.tier,
            "client": who.client_name, "therapist": who.therapist_name,
            "context": options.context or _default_context(parsed.source), "turns": turns}
    return validated(data, parsed.source)


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def _default_title(content_id: str) -> str:
    return content_id.replace("-", " ").capitalize()


def _default_context(source: Path) -> str:
    # The model asks for a context line; this one says plainly that it is still to be written.
    return (f"Imported from {source.name}. Replace this line: who the client is, where they talk and what "
            "brought them (attune import --context).")


def validated(data: dict, source: Path) -> Transcript:
    from course.loading import ContentError, validate

    try:
        return validate(data, Transcript, source)
    except ContentError as err:
        raise ImportProblem(f"the transcript made from {err}") from None


# ----------------------------------------------------------------------------------------------------- writing


def transcript_data(transcript: Transcript) -> dict:
    """The transcript as its YAML file holds it (fields in the model's order, no empty timestamps)."""
    return transcript.model_dump(mode="json", exclude_none=True)


def dump_yaml(transcript: Transcript, source: Path) -> str:
    import yaml

    header = (f"# Imported by `attune import` from {source.name}. Check the speakers, the context line and any\n"
              "# warning it printed; then write the key (`attune validate` lists the turns to code).\n")
    return header + yaml.safe_dump(transcript_data(transcript), sort_keys=False, allow_unicode=True, width=116)


def write_transcript(transcript: Transcript, target: Path, source: Path, *, force: bool = False) -> Path:
    """Write the transcript's YAML file (read back and checked before it replaces anything); an existing file is
    kept unless ``force``."""
    import yaml

    target = Path(target)
    if target.exists() and not force:
        raise ImportProblem(f"{target} exists; nothing was written. Choose another --id, or add --force to replace "
                            "it.")
    text = dump_yaml(transcript, source)
    if Transcript.model_validate(yaml.safe_load(text)) != transcript:  # what is written reads back the same
        raise ImportProblem(f"{target}: the YAML written would not read back as the transcript; nothing was written.")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(target)  # whole or not at all
    return target


def to_text(transcript: Transcript) -> str:
    """The transcript as plain text with speaker labels and timestamps, which `attune import text` reads back."""
    blocks = []
    for turn in transcript.turns:
        stamp = ""
        if turn.start:
            stamp = f"[{turn.start} --> {turn.end}] " if turn.end else f"[{turn.start}] "
        blocks.append(f"{stamp}{transcript.speaker_name(turn)}: {turn.text}")
    return "\n\n".join(blocks) + "\n"

