"""Defending reference answers the way coding labs do: a blind second coding of every transcript, agreement
between the two codings, and a recorded resolution of every disagreement.

Records live beside the keys, in solutions/<exercise>/keys/second-coding/<transcript>.yaml (or, one record per
second coder, <transcript>.<coder>.yaml; the course's own keys/second-coding/ too):

    transcript: <id>
    first:  {T1: {code: OQ, empathy: 3}, ...}    # the reference as first written, before any discussion
    second: {T1: {code: OQ, empathy: 3, why: ...}, ...}   # the blind second coder's
    resolutions:                                  # one per turn where the two differ
      T4: {code: AD, empathy: 1, why: "one sentence: which reading wins and why"}

`compare` is pure; `load_records` and `main` are the thin file and command-line adapters.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from autograder.core.agreement import adjacent_agreement, cohen_kappa, percent_agreement
from course.adjudication import FIELDS, SECOND_CODING_DIR, record_coder, record_name, record_transcript, yaml_flow
from course.errors import AttuneError

__all__ = ["FIELDS", "SECOND_CODING_DIR", "Comparison", "compare", "load_record", "load_records", "report"]


@dataclass(frozen=True)
class Comparison:
    turns: int
    code_agreement: float
    code_kappa: float | None
    empathy_exact: float
    empathy_adjacent: float
    empathy_weighted_kappa: float | None
    disagreements: tuple[tuple[str, str, object, object], ...]  # (turn, field, first, second)


def _kappa(a: list, b: list, **kw: object) -> float | None:
    try:
        return cohen_kappa(a, b, **kw)  # type: ignore[arg-type]
    except ValueError:
        return None  # undefined (a single category): reported as n/a, never as NaN


def compare(first: Mapping[str, Mapping], second: Mapping[str, Mapping],
            levels: Sequence[int] | None = None) -> Comparison:
    """Agreement of two codings of the same turns: codes (percent, Cohen's kappa) and empathy levels (exact,
    within one level, quadratic-weighted kappa on the rubric's scale ``levels``, e.g. its ``empathy_levels``).

    Without ``levels``, the consecutive levels from the lowest to the highest either coder used: the same kappa
    on a scale 1..n (levels nobody used at either end change nothing), but nothing checks the values are levels.
    """
    if set(first) != set(second):
        raise ValueError(f"the codings cover different turns: {sorted(set(first) ^ set(second))}")
    turns = list(first)
    codes_a, codes_b = [first[t]["code"] for t in turns], [second[t]["code"] for t in turns]
    emp_a, emp_b = [first[t]["empathy"] for t in turns], [second[t]["empathy"] for t in turns]
    if levels is None:
        used = [v for v in emp_a + emp_b if v is not None]
        levels = range(min(used), max(used) + 1) if used else ()
    off_scale = sorted({str(v) for v in emp_a + emp_b if v is not None and v not in levels})
    if off_scale:  # a record's error: say so, rather than a kappa of n/a
        raise ValueError(f"empathy levels not on the scale {', '.join(map(str, levels))}: {', '.join(off_scale)}")
    disagreements = tuple((t, f, first[t][f], second[t][f]) for t in turns for f in FIELDS
                          if first[t][f] != second[t][f])
    return Comparison(
        turns=len(turns),
        code_agreement=percent_agreement(codes_a, codes_b),
        code_kappa=_kappa(codes_a, codes_b),
        empathy_exact=percent_agreement(emp_a, emp_b),
        empathy_adjacent=adjacent_agreement(emp_a, emp_b),
        empathy_weighted_kappa=_kappa(emp_a, emp_b, weights="quadratic", categories=list(levels)),
        disagreements=disagreements,
    )


def load_record(path: Path) -> dict:
    """One record, with what its place says: ``exercise`` (None in the course's own keys/), ``path``, ``name``
    (``transcript`` or ``transcript.coder``), ``coder`` (from a ``<transcript>.<coder>.yaml`` name, else None) and
    ``transcript`` (the part of the name before the first dot, unless the record says)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a second-coding record (a mapping with first: and second:)")
    keys = path.parent.parent
    data["exercise"] = keys.parent.name if keys.parent.parent.name == "solutions" else None
    data["path"] = path
    data["name"] = record_name(path)
    data["coder"] = record_coder(path)
    data.setdefault("transcript", record_transcript(path))
    return data


def load_records(solutions: Path) -> dict[str, dict]:
    """Every second-coding record of the exercises in ``solutions``, by name: the transcript id for
    ``<transcript>.yaml``, ``<transcript>.<coder>`` for one of several second coders (the record's ``transcript``
    is then the part before the first dot), with the exercise it belongs to."""
    records = {}
    for path in sorted(solutions.glob(f"*/keys/{SECOND_CODING_DIR}/*.yaml")):
        data = load_record(path)
        data["exercise"] = path.parts[-4]
        records[data["name"]] = data
    return records


# -- a blind second coding: the notebook a colleague codes in, and collecting what they coded ---------------------
BLIND_FOLDER = "second-coding"  # <course>/second-coding/<transcript>-<coder>.ipynb
ANSWER_VARIABLE = "coding"


def coder_slug(coder: str) -> str:
    """A second coder's name as it goes into file names ("Ana Lima" -> "ana-lima"); never empty, never a dot."""
    import re
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", coder).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not slug:
        raise AttuneError(f"--coder {coder!r}: give a name with letters or digits (it names the files).")
    return slug


def blind_notebook(transcript_id: str, coder: str):
    """A notebook in which ``coder`` codes ``transcript_id`` blind: the transcript and the rubric's form, and an
    empty answer cell. Nothing of the key (no code, level or why, no self-check against it)."""
    import nbformat

    from autograder.authoring.build import NOTEBOOK_METADATA
    from course.parts import load_part
    from course.widgets.recorder import answer_cell_text

    part = load_part(transcript_id)
    if part.kind != "coding":
        raise AttuneError(f"{transcript_id!r} is not a transcript to code (it is a {part.kind} item file).")
    v = ANSWER_VARIABLE
    slug = coder_slug(coder)
    cells = [
        nbformat.v4.new_markdown_cell(f"""# Blind second coding · {part.title}

**Second coder:** {coder}

Code each of the {len(part.items)} listener turns with the rubric, as you read them: one behaviour code and one
empathy level. You see the transcript and the rubric only; the key and anyone else's coding stay out of sight, so
that where your reading differs from the key, the difference is yours.

When every turn is coded, run the answer cell below the form, save the notebook (Ctrl+S) and send the saved file
back. The instructor collects it with
`attune second-coding {transcript_id} --coder {slug} --collect {transcript_id}-{slug}.ipynb`.""", id="introduction"),
        nbformat.v4.new_code_cell(f'from course.widgets import AnswerForm\n\n{v}_form = AnswerForm("{part.id}", '
                                  f'variable="{v}")\n{v}_form', id="form"),
        nbformat.v4.new_markdown_cell("Run this cell after coding (Shift+Enter): the form writes your codes into it. "
                                      "Then save with Ctrl+S. If it does not fill itself in, open *Your answers as "
                                      "text* in the form and paste that text here instead.", id="save-intro"),
        nbformat.v4.new_code_cell(answer_cell_text(v, {}), id="answers"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells, metadata=NOTEBOOK_METADATA)
    nb.nbformat_minor = 5
    return nb


def write_blind_notebook(root: Path, transcript_id: str, coder: str, *, force: bool = False) -> Path:
    """Write the blind coding notebook of ``coder`` for ``transcript_id`` into <course>/second-coding/."""
    import nbformat

    nb = blind_notebook(transcript_id, coder)
    path = root / BLIND_FOLDER / f"{transcript_id}-{coder_slug(coder)}.ipynb"
    if path.exists() and not force:
        raise AttuneError(f"{path} exists (perhaps already being coded); --force writes a new, empty one.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return path


def read_coding(path: Path, transcript_id: str) -> dict[str, dict]:
    """The second coder's codes from their notebook (the answer cell's literal, read without running anything) or
    from a YAML file ({T1: {code, empathy}, ...}, or a record-like mapping with second:), checked against the
    transcript's turns and the rubric in force."""
    from autograder.core.literals import answers_in_notebook, read_notebook
    from course.parts import load_part

    path = Path(path)
    if not path.is_file():
        raise AttuneError(f"{path}: no such file.")
    if path.suffix == ".ipynb":
        try:
            found = answers_in_notebook(read_notebook(path), ANSWER_VARIABLE)
        except ValueError as err:
            raise AttuneError(str(err)) from None
        if found.problem:
            raise AttuneError(f"{path}: the answer cell cannot be read: {found.problem}.")
        coding = found.value
    else:
        try:
            coding = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise AttuneError(f"{path}: not YAML ({err}).") from None
        if isinstance(coding, dict) and isinstance(coding.get("second"), dict):
            coding = coding["second"]
    if not isinstance(coding, dict):
        raise AttuneError(f"{path}: expected one entry per listener turn ({{T1: {{code, empathy}}, ...}}).")
    part = load_part(transcript_id)
    codes, levels = part.rules["code"].values, part.rules["empathy"].values
    problems = []
    for turn in part.items:
        entry = coding.get(turn)
        if not isinstance(entry, dict) or entry.get("code") in (None, "") or entry.get("empathy") in (None, ""):
            problems.append(f"{turn}: not coded")
        elif entry["code"] not in codes:
            problems.append(f"{turn}: code {entry['code']!r} is not in the rubric ({', '.join(codes)})")
        elif entry["empathy"] not in levels:
            problems.append(f"{turn}: empathy {entry['empathy']!r} is not on the scale ({min(levels)}-{max(levels)})")
    problems += [f"{turn}: not a listener turn of {transcript_id}" for turn in coding if turn not in part.items]
    if problems:
        raise AttuneError(f"{path}: {len(problems)} problem(s) with the second coding:\n" +
                          "\n".join(f"  - {p}" for p in problems))
    return {turn: {"code": coding[turn]["code"], "empathy": coding[turn]["empathy"],
                   **({"why": str(coding[turn]["why"])} if coding[turn].get("why") else {})}
            for turn in part.items}


def current_key(root: Path, transcript_id: str) -> Path:
    """The key file `attune build` reads for ``transcript_id`` (the first exercise that has it as a part), else the
    course's keys/<transcript>.yaml or an exercise's."""
    from autograder.authoring.build import MANIFEST, course_exercises, key_file

    solutions = root / "solutions"
    if (solutions / MANIFEST).is_file():
        for exercise in course_exercises(solutions):
            if any(p.part == transcript_id for p in exercise.entry.parts):
                return key_file(exercise.keys, transcript_id)
    candidates = [root / "keys" / f"{transcript_id}.yaml", *sorted(solutions.glob(f"*/keys/{transcript_id}.yaml"))]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise AttuneError(f"no key for {transcript_id!r} (in keys/ or solutions/*/keys/): write it before comparing "
                          "a second coding with it.")
    return found


def record_text(transcript_id: str, coder: str, key_path: Path, first: Mapping, second: Mapping) -> str:
    lines = [f"# Second coding of {transcript_id} by {coder}, collected by `attune second-coding`.",
             f"transcript: {transcript_id}",
             f"# The key ({key_path.name}) as it was when the second coding was collected.", "first:",
             *(f"  {t}: {yaml_flow(v)}" for t, v in first.items()),
             f"# {coder}'s blind coding: the transcript and the rubric only.", "second:",
             *(f"  {t}: {yaml_flow(v)}" for t, v in second.items()),
             "# One per turn where the codings differ: the value that stands in the key, and why (Adjudicate in a "
             "notebook).", "resolutions: {}"]
    return "\n".join(lines) + "\n"


def collect(root: Path, transcript_id: str, coder: str, source: Path, *, force: bool = False) -> Path:
    """Write <course>/keys/second-coding/<transcript>.<coder>.yaml: first = the key's codes now, second = the
    colleague's from ``source``. Nothing is written if either is incomplete."""
    from course.adjudication import atomic_write

    second = read_coding(source, transcript_id)
    key_path = current_key(root, transcript_id)
    key = yaml.safe_load(key_path.read_text(encoding="utf-8")) or {}
    turns = key.get("turns") if isinstance(key, dict) else None
    unkeyed = [t for t in second if not isinstance((turns or {}).get(t), dict)
               or (turns or {})[t].get("code") in (None, "") or (turns or {})[t].get("empathy") in (None, "")]
    if unkeyed:
        raise AttuneError(f"{key_path}: the key has no code or level yet for {', '.join(unkeyed)}; write the key "
                          "before comparing a second coding with it.")
    first = {t: {"code": turns[t]["code"], "empathy": turns[t]["empathy"]} for t in second}  # type: ignore[index]
    path = root / "keys" / SECOND_CODING_DIR / f"{transcript_id}.{coder_slug(coder)}.yaml"
    if path.exists() and not force:
        raise AttuneError(f"{path} exists (with its resolutions); --force replaces it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, record_text(transcript_id, coder, key_path, first, second))
    return path


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def report(solutions: Path, levels: Sequence[int] | None = None) -> str:
    """A plain-text table: per transcript and pooled per exercise and overall, on the scale ``levels``
    (default: the empathy levels of the rubric in force)."""
    if levels is None:
        from course.rubric import load_rubric

        levels = load_rubric().empathy_levels
    records = load_records(solutions)
    lines = [f"{'exercise':<9}{'transcript':<32}{'turns':>6}{'code %':>8}{'kappa':>7}{'emp %':>7}{'±1 %':>7}"
             f"{'wkappa':>8}{'resolved':>9}"]
    pooled: dict[str, tuple[dict, dict]] = {}
    for transcript, r in records.items():
        c = compare(r["first"], r["second"], levels)
        lines.append(f"{r['exercise']:<9}{transcript:<32}{c.turns:>6}{100 * c.code_agreement:>8.0f}"
                     f"{_fmt(c.code_kappa):>7}{100 * c.empathy_exact:>7.0f}{100 * c.empathy_adjacent:>7.0f}"
                     f"{_fmt(c.empathy_weighted_kappa):>8}{len(r.get('resolutions') or {}):>9}")
        for group in (r["exercise"], "all"):
            first, second = pooled.setdefault(group, ({}, {}))
            first.update({f"{transcript}:{t}": v for t, v in r["first"].items()})
            second.update({f"{transcript}:{t}": v for t, v in r["second"].items()})
    lines.append("")
    for group, (first, second) in sorted(pooled.items()):
        c = compare(first, second, levels)
        lines.append(f"{group:<9}{'(pooled)':<32}{c.turns:>6}{100 * c.code_agreement:>8.0f}{_fmt(c.code_kappa):>7}"
                     f"{100 * c.empathy_exact:>7.0f}{100 * c.empathy_adjacent:>7.0f}"
                     f"{_fmt(c.empathy_weighted_kappa):>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agreement between the reference and the blind second coding.")
    parser.add_argument("solutions", nargs="?", default="solutions", type=Path)
    args = parser.parse_args(argv)
    print(report(args.solutions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
