"""Pseudonymisation (`--names names.csv`: real,pseudonym) and the warnings about what still looks like contact
details or a date of birth. Recorded sessions carry names, places, dates and contact details; real material is
used only with consent and after pseudonymisation, so the importer makes that the easy path."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from autograder.authoring.importers.core import ImportProblem, problems_error, read_text, validated
from course.transcript import Transcript

HEADER = {"real", "name", "real name", "original", "from"}


def load_names(path: Path) -> dict[str, str]:
    """real name: pseudonym, from a two-column CSV (header optional); ImportProblem naming each bad line."""
    path = Path(path)
    names: dict[str, str] = {}
    problems: list[str] = []
    rows = csv.reader(read_text(path).split("\n"))
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].casefold() in HEADER:
            continue
        if len(cells) != 2 or not all(cells):
            problems.append(f"{path}:{number}: expected two columns, real name and pseudonym (e.g. 'Maya "
                            f"Okafor,Lena Brandt'); found {row!r}.")
            continue
        real, pseudonym = cells
        if real.casefold() in (k.casefold() for k in names):
            problems.append(f"{path}:{number}: {real!r} is listed twice; keep one line for it.")
            continue
        names[real] = pseudonym
    if problems:
        raise problems_error(path, problems)
    if not names:
        raise ImportProblem(f"{path}: no names in it (two columns: real name, pseudonym).")
    return names


def replacer(names: dict[str, str]):
    """A function replacing every real name, whole words only and in any case, by its pseudonym."""
    # Longest first, so "Maya Okafor" is replaced whole before "Maya" alone.
    ordered = sorted(names, key=len, reverse=True)
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(real)}(?!\w)" for real in ordered), re.IGNORECASE)
    lookup = {real.casefold(): pseudonym for real, pseudonym in names.items()}

    def replace(text: str) -> str:
        return pattern.sub(lambda m: lookup[m.group(0).casefold()], text)

    return replace


def pseudonymise(transcript: Transcript, names: dict[str, str], source: Path) -> Transcript:
    """The transcript with every real name replaced in the text, the speakers' names, the title and the context."""
    replace = replacer(names)
    data = transcript.model_dump(mode="json", exclude_none=True)
    for key in ("title", "client", "therapist", "context"):
        data[key] = replace(data[key])
    for turn in data["turns"]:
        turn["text"] = replace(turn["text"])
    return validated(data, source)


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
          r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
LOOKS_LIKE = {
    "an e-mail address": re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "a phone number": re.compile(
        r"(?<![\w+])(?:"
        r"\+\d{1,3}(?:[\s.-]?\(?\d{1,5}\)?){2,6}"  # +44 20 7946 0958, +1 (555) 123-4567
        r"|\(\d{2,5}\)\s?\d{3,4}[\s.-]?\d{3,4}"  # (555) 123-4567, (020) 7946 0958
        r"|0\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}"  # 07700 900123, 020 7946 0958
        r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 555-123-4567
        r")(?!\w)"),
    "a date (of birth?)": re.compile(
        r"(?<![\w/.-])(?:"
        r"\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"  # 12/03/1985, 12.03.85
        r"|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"  # 1985-03-12
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(?:19|20)\d{{2}}"  # 3 March 1985, 3rd of March, 1985
        rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{{2}}"  # March 3, 1985
        r")(?![\w/])", re.IGNORECASE),
}


def privacy_warnings(transcript: Transcript) -> list[str]:
    """What still looks like an e-mail address, a phone number or a date of birth, with the turn it is in."""
    return [f"{turn.id}: {hit}" for turn in transcript.turns for hit in text_warnings(turn.text)]


def text_warnings(text: str) -> list[str]:
    """What in ``text`` looks like an e-mail address, a phone number or a date of birth: "'...' looks like ..."."""
    found = []
    for what, pattern in LOOKS_LIKE.items():
        for match in pattern.finditer(text):
            if what == "a phone number" and sum(c.isdigit() for c in match.group(0)) < 7:
                continue  # too short for a phone number: a sum, a room number
            found.append(f"{match.group(0)!r} looks like {what}")
    return found
