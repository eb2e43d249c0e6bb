"""Plain text with speaker labels: 'Counsellor: ...', optionally after a time ('[00:01:02] Ann: ...', also a range
'[00:01:02.000 --> 00:01:09.500]'); a turn may run over several lines and paragraphs; stage directions in brackets
stay in the text."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.authoring.importers.core import Parsed, Utterance, clock, problems_error, read_text, split_label

_TIME = r"\d{1,3}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# A time before the label: [00:01:02], (00:01:02), 00:01:02, or a range with -->, - or –.
STAMP = re.compile(rf"^[\[(]?(?P<start>{_TIME})(?:\s*(?:-->|-|–)\s*(?P<end>{_TIME}))?[\])]?\s+(?P<rest>.*)$")


def parse_text(text: str, source: Path) -> Parsed:
    """Utterances of a labelled plain-text transcript; ImportProblem naming the line of every problem."""
    utterances: list[Utterance] = []
    problems: list[str] = []
    current: dict | None = None  # the utterance being read: speaker, lines, start, end, line

    def close() -> None:
        if current is not None:
            utterances.append(Utterance(current["speaker"], " ".join(current["lines"]), current["start"],
                                        current["end"], current["line"]))

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue  # blank lines separate paragraphs, not speakers
        start = end = None
        stamp = STAMP.match(line)
        if stamp and split_label(stamp["rest"]):
            start, end = clock(stamp["start"]), stamp["end"] and clock(stamp["end"])
            line = stamp["rest"]
        labelled = split_label(line)
        if labelled is None:
            if current is None:
                problems.append(f"{source}:{number}: text before the first speaker label ({_short(line)}). Start "
                                "each turn with the speaker's label, e.g. 'Counsellor: ...', or delete the line.")
            else:
                current["lines"].append(line)  # the turn goes on
            continue
        close()
        speaker, said = labelled
        current = {"speaker": speaker, "lines": [said] if said else [], "start": start, "end": end, "line": number}
    close()
    empty = [u for u in utterances if not u.text]
    problems += [f"{source}:{u.line}: {u.speaker!r} says nothing here; delete the label or add the words."
                 for u in empty]
    if problems:
        raise problems_error(source, problems)
    return Parsed(source, utterances)


def parse_file(path: Path) -> Parsed:
    return parse_text(read_text(path), Path(path))


def _short(line: str, width: int = 50) -> str:
    return repr(line if len(line) <= width else line[: width - 1] + "…")
