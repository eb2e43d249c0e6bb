"""Word documents (.docx), read with python-docx: a two-column table (speaker, text), or else a paragraph per turn
('Name: text'; a paragraph without a label goes on with the turn before). Problems name the paragraph or the table
row, Word's nearest thing to a line."""

from __future__ import annotations

import zipfile
from pathlib import Path

from autograder.authoring.importers.core import ImportProblem, Parsed, Utterance, problems_error, split_label

HEADERS = {"speaker", "name", "who", "role", "person"}  # a first row naming the columns is not a turn


def parse_file(path: Path) -> Parsed:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    path = Path(path)
    if not path.is_file():
        raise ImportProblem(f"{path}: file not found.")
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError):
        raise ImportProblem(f"{path}: not a Word .docx file. An older .doc (or .odt, .rtf) must be saved as .docx "
                            "first (Word or LibreOffice: File > Save As).") from None
    tables = [t for t in document.tables if t.rows]
    if tables:
        return _from_table(path, tables)
    # Headings and a title are not speech; their numbers still count so paragraph numbers match Word's.
    return _from_paragraphs(path, [p.text if not _is_heading(p) else "" for p in document.paragraphs])


def _is_heading(paragraph) -> bool:
    name = (paragraph.style.name if paragraph.style is not None else "") or ""
    return name.startswith(("Heading", "Title", "Subtitle"))


def _from_table(path: Path, tables: list) -> Parsed:
    utterances: list[Utterance] = []
    problems: list[str] = []
    speaker: str | None = None
    row_number = 0  # rows counted through all tables, as a reader counts them down the document
    for table_number, table in enumerate(tables, start=1):
        for row in table.rows:
            row_number += 1
            cells = [c.text.strip() for c in row.cells]
            if len(cells) != 2:
                problems.append(f"{path}:table {table_number}, row {row_number}: {len(cells)} columns; a transcript "
                                "table has two (speaker, text).")
                continue
            who, said = cells
            if row_number == 1 and who.casefold() in HEADERS:
                continue
            speaker = who or speaker  # an empty speaker cell goes on with the one above
            if not said:
                continue
            if speaker is None:
                problems.append(f"{path}:table row {row_number}: no speaker in the first row; write the speaker's "
                                "label in the left column.")
                continue
            utterances.append(Utterance(speaker.rstrip(":"), " ".join(said.split()), line=row_number))
    if problems:
        raise problems_error(path, problems)
    return Parsed(path, utterances, unit="table row")


def _from_paragraphs(path: Path, paragraphs: list[str]) -> Parsed:
    utterances: list[Utterance] = []
    problems: list[str] = []
    for number, text in enumerate(paragraphs, start=1):
        text = " ".join(text.split())
        if not text:
            continue
        labelled = split_label(text)
        if labelled is not None:
            utterances.append(Utterance(labelled[0], labelled[1], line=number))
        elif utterances:  # the turn goes on in another paragraph
            last = utterances[-1]
            utterances[-1] = Utterance(last.speaker, f"{last.text} {text}".strip(), line=last.line)
        else:
            problems.append(f"{path}:paragraph {number}: text before the first speaker label ({text[:50]!r}). Start "
                            "each turn with the speaker's label, e.g. 'Counsellor: ...', or delete the paragraph.")
    if problems:
        raise problems_error(path, problems)
    return Parsed(path, utterances, unit="paragraph")
