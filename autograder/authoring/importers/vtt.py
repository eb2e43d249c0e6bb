"""WebVTT, read with webvtt-py: the speaker from a voice span (`<v Ann Lee>`, Microsoft Teams) or a 'Name: text'
prefix (Zoom); NOTE, STYLE and REGION blocks and cue ids are skipped; overlapping cues are put in order of their
start, with a warning."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.authoring.importers.core import (
    ImportProblem,
    Parsed,
    Utterance,
    problems_error,
    read_text,
    split_label,
    timed_cues,
)

_TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3})\s*-->\s*((?:\d+:)?\d{1,2}:\d{1,2}\.\d{1,3})")


def parse_text(text: str, source: Path) -> Parsed:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError
    from webvtt.models import Timestamp

    lines = text.split("\n")
    if not lines[0].startswith("WEBVTT"):
        raise ImportProblem(f"{source}:1: a WebVTT file starts with the line 'WEBVTT' (found {lines[0][:40]!r}). Is "
                            "it an SRT file (`attune import srt`) or plain text (`attune import text`)?")
    # webvtt-py skips a malformed timing line without saying where: find them first, with their lines.
    problems = [f"{source}:{n}: not a cue timing line ('00:01:02.000 --> 00:01:05.500'): {line.strip()[:60]!r}"
                for n, line in enumerate(lines, start=1) if "-->" in line and not _TIMING.match(line)]
    if problems:
        raise problems_error(source, problems)
    try:
        captions = webvtt.from_string(text).captions
    except (MalformedCaptionError, MalformedFileError, ValueError) as err:
        raise ImportProblem(f"{source}: not valid WebVTT ({err}).") from None
    # Each caption's timing line, in order (webvtt-py keeps the file's order and no line numbers).
    timing_lines = [(n, Timestamp.from_string(m[1]), Timestamp.from_string(m[2]))
                    for n, line in enumerate(lines, start=1) if (m := _TIMING.match(line))]
    utterances: list[Utterance] = []
    problems = []
    previous: str | None = None
    position = 0
    for caption in captions:
        while position < len(timing_lines) and (timing_lines[position][1], timing_lines[position][2]) != (
                caption.start_time, caption.end_time):
            position += 1
        line = timing_lines[position][0] if position < len(timing_lines) else 0
        position += 1
        said = " ".join(part.strip() for part in caption.text.split("\n") if part.strip())
        speaker = caption.voice.strip() if caption.voice else None
        if speaker is None and (labelled := split_label(said)):
            speaker, said = labelled
        if not said:
            continue  # an empty cue says nothing
        speaker = speaker or previous  # a cue without a name goes on with the voice before it
        if speaker is None:
            problems.append(f"{source}:{line}: the first cue names no speaker; write '<v Name>' or 'Name: ' before "
                            "its text.")
            continue
        utterances.append(Utterance(speaker, said, caption.start, caption.end, line))
        previous = speaker
    return timed_cues(source, utterances, problems)


def parse_file(path: Path) -> Parsed:
    return parse_text(read_text(path), Path(path))
