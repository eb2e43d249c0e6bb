"""SubRip (.srt), read with the `srt` package. SRT has no speaker field; transcription services write 'NAME: text',
'[NAME] text', or '- text' for a change of speaker. A line without any of them goes on with the speaker before."""

from __future__ import annotations

import re
from pathlib import Path

from autograder.authoring.importers.core import (
    ImportProblem,
    Parsed,
    Utterance,
    from_timedelta,
    read_text,
    split_label,
    timed_cues,
)

BRACKETED = re.compile(r"^\[(?P<label>[^\]\d][^\]]{0,40})\]\s*(?P<text>.*)$")  # [ANN] text (not [00:01] or [laughs])
DASH = re.compile(r"^[-–]\s+(?P<text>.*)$")
_STAGE = re.compile(r"^(?:laugh|sigh|pause|cough|cri|cry|silence|inaudible|crosstalk|music|long pause|sob)",
                    re.IGNORECASE)


def _labelled(line: str) -> tuple[str, str] | None:
    bracketed = BRACKETED.match(line)
    if bracketed and not _STAGE.match(bracketed["label"]):
        return bracketed["label"].strip(), bracketed["text"].strip()
    return split_label(line)


def parse_text(text: str, source: Path) -> Parsed:
    import srt

    # Line numbers of each cue's timing line: srt.parse uses this regex and keeps no positions.
    starts = [text.count("\n", 0, m.start(2)) + 1 for m in srt.SRT_REGEX.finditer(text)]
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as err:
        line = text.count("\n", 0, err.expected_start) + 1
        raise ImportProblem(f"{source}:{line}: not an SRT cue (a number, a line '00:01:02,000 --> 00:01:05,500' and "
                            f"the text): {err.unmatched_content.strip()[:60]!r}") from None
    if not subtitles:
        raise ImportProblem(f"{source}:1: no SRT cues found (a number, a line '00:01:02,000 --> 00:01:05,500' and the "
                            "text). Is it WebVTT (`attune import vtt`) or plain text (`attune import text`)?")
    cue_lines = [[(starts[i] + 1 + k, part.strip()) for k, part in enumerate(sub.content.split("\n"))
                  if part.strip()] for i, sub in enumerate(subtitles)]
    named = {_labelled(part)[0] for parts in cue_lines for _n, part in parts if _labelled(part)}
    # With two named speakers, '- ' switches between them; with none named, the voices are 'Speaker 1' and
    # 'Speaker 2' in turn, for --listener to name.
    voices = sorted(named) if len(named) == 2 else ["Speaker 1", "Speaker 2"] if not named else []
    utterances: list[Utterance] = []
    problems: list[str] = []
    speaker: str | None = None if named else "Speaker 1"
    for sub, parts in zip(subtitles, cue_lines, strict=True):
        start, end = from_timedelta(sub.start), from_timedelta(sub.end)
        for n, part in parts:
            said = part
            if labelled := _labelled(part):
                speaker, said = labelled
            elif dash := DASH.match(part):
                said = dash["text"]
                if not utterances:
                    pass  # the first line of the file: no change from anyone yet
                elif voices and speaker in voices:
                    speaker = voices[1 - voices.index(speaker)]
                else:
                    problems.append(f"{source}:{n}: '- ' marks a change of speaker, but the file names "
                                    f"{len(named)} speakers ({', '.join(sorted(named))}), so which one is unclear; "
                                    "write 'NAME: ' instead of '- '.")
                    continue
            if speaker is None:
                problems.append(f"{source}:{n}: the first cue names no speaker; write 'NAME: ' before its text.")
                continue
            if said:
                utterances.append(Utterance(speaker, said, start, end, n))
    return timed_cues(source, utterances, problems)


def parse_file(path: Path) -> Parsed:
    return parse_text(read_text(path), Path(path))
