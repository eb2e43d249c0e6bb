"""Building the exercise source notebooks (solutions/exNN/*.ipynb) from one source of truth.

solutions/exercises.yaml says which parts each exercise has; the course content (transcripts and item files)
says what trainees see; solutions/exNN/keys/<part>.yaml holds the expert reference answers with their
rationales. This module writes the nbgrader source notebooks from those, with the reference answers inside the
hidden tests. `attune build` runs it; a test proves the committed notebooks are what it writes today, and
`attune exercises` then makes the trainee versions (exercises/) with nbgrader.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import nbformat
import yaml
from pydantic import BaseModel, ConfigDict, Field

from autograder.core.metrics import session_summary
from course.loading import ContentError, load_model
from course.widgets.recorder import format_literal

MANIFEST = "exercises.yaml"
KEYS_DIR = "keys"
# What an exercise carries of a course's own content, beside its notebook: nbgrader releases it with the notebook
# and autograde copies the instructor's version next to every submission it runs (see course.library).
CONTENT_FOLDER = "content"
# The shipped curriculum's exercises and keys, which a course of one's own includes by id. They live in the
# repository (never in a wheel): an editable install from a clone has them.
SHIPPED_SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
# language_info as the kernel reports it: JupyterLab replaces a shorter one on open and marks the notebook unsaved.
# Fixed (not read at build time) so the generated files do not depend on who builds them; the lessons carry the same.
NOTEBOOK_METADATA = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                                       "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                                       "pygments_lexer": "ipython3", "version": "3.11.7"}}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PartEntry(_Strict):
    part: str = Field(description="A transcript id or an item file id.")
    variable: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="The answer variable in the notebook.")
    graded: Literal["auto", "manual"] = "auto"


class ExerciseEntry(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$", description="The nbgrader assignment id, e.g. 'ex01'.")
    notebook: str = Field(pattern=r"^[a-z0-9-]+\.ipynb$")
    title: str
    module: int = Field(ge=0)
    tier: Literal["beginner", "intermediate", "advanced"]
    lesson: str | None = Field(None, pattern=r"^[0-9]{2}-[a-z0-9-]+\.ipynb$",
                               description="The shipped lesson to work through first, if any.")
    intro: str
    parts: list[PartEntry] = Field(min_length=1)
    resources: bool = Field(False, description="The exercise touches on risk: show the support resources.")


class Manifest(_Strict):
    include: list[str] = Field(default_factory=list, description="Shipped exercises this course includes by id.")
    exercises: list[ExerciseEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Exercise:
    """One exercise of a course and the folders its keys are in, searched in order: the exercise's keys/, then the
    course's own keys/ (where `attune import` puts the keys of imported transcripts); the shipped curriculum's for
    an included exercise."""

    entry: ExerciseEntry
    keys: tuple[Path, ...]


def load_manifest(solutions: Path) -> Manifest:
    return load_model(solutions / MANIFEST, Manifest)


def course_exercises(solutions: Path) -> list[Exercise]:
    """The exercises of the course whose solutions/ folder this is: those it includes from the shipped curriculum
    (by id), then its own. An exercise id given twice is an error."""
    manifest_path = solutions / MANIFEST
    manifest = load_manifest(solutions)
    found = []
    if manifest.include:
        if solutions.resolve() == SHIPPED_SOLUTIONS:
            raise ContentError(f"{manifest_path}: include: is for a course of one's own; the shipped course has "
                               "every exercise already.")
        if not (SHIPPED_SOLUTIONS / MANIFEST).is_file():
            raise ContentError(f"{manifest_path}: include: needs the shipped curriculum's keys, which this "
                               f"installation of Attune does not have ({SHIPPED_SOLUTIONS} is missing). Install "
                               "Attune from a clone of its repository (pip install -e .), or remove include:.")
        shipped = {e.id: e for e in load_manifest(SHIPPED_SOLUTIONS).exercises}
        for exercise_id in manifest.include:
            if exercise_id not in shipped:
                raise ContentError(f"{manifest_path}: include: {exercise_id!r} is not a shipped exercise; known: "
                                   f"{', '.join(shipped)}.")
            found.append(Exercise(shipped[exercise_id], (SHIPPED_SOLUTIONS / exercise_id / KEYS_DIR,)))
    course_keys = solutions.parent / KEYS_DIR
    found += [Exercise(e, (solutions / e.id / KEYS_DIR, course_keys)) for e in manifest.exercises]
    ids = [x.entry.id for x in found]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ContentError(f"{manifest_path}: the exercise id {twice[0]!r} is defined twice (include: and "
                           "exercises: share one list of ids); rename yours.")
    return found


def key_file(keys: Path | tuple[Path, ...], part: str) -> Path:
    """The key file of ``part``: the first of the key folders that has one (else where the first would have it)."""
    folders = (keys,) if isinstance(keys, Path) else keys
    return next((f / f"{part}.yaml" for f in folders if (f / f"{part}.yaml").is_file()), folders[0] / f"{part}.yaml")


def load_key(keys: Path | tuple[Path, ...], part: str) -> dict:
    path = key_file(keys, part)
    if not path.is_file():
        raise ContentError(f"{path}: no reference answers for part {part!r} of {path.parent.parent.name}; write "
                           "this key file.")
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ContentError(f"{path}: expected a mapping at the top level.")
    return data


# -- references: key file -> the REFERENCE literal of a hidden test -------------------------------------------
def reference_for(part_id: str, key: dict, key_path: str) -> dict[str, dict[str, Any]]:
    """The reference answers of one part, as the hidden test holds them: {item: {field: expected, why}}."""
    from course.parts import load_part

    part = load_part(part_id)
    if part.kind == "metrics":
        return _metrics_reference(part_id)
    entries = key.get("turns") if part.kind == "coding" else key.get("items")
    if not isinstance(entries, dict):
        raise ContentError(f"{key_path}: expected '{'turns' if part.kind == 'coding' else 'items'}:' with one "
                           "entry per item.")
    missing = [i for i in part.items if i not in entries]
    extra = [i for i in entries if i not in part.items]
    if missing or extra:
        raise ContentError(f"{key_path}: the key must answer exactly the items of {part_id!r}; "
                           f"missing {missing or 'none'}, unknown {extra or 'none'}.")
    if part.kind == "coding":
        problems = [f"  - {i}: {p}" for i in part.items if (p := _coding_entry_problem(entries[i], part))]
        if problems:
            raise ContentError(f"{key_path}: {len(problems)} turn(s) to fix:\n" + "\n".join(problems))
    reference = {}
    for item_id in part.items:
        entry = entries[item_id]
        if part.kind == "coding":
            reference[item_id] = {"code": entry["code"], "empathy": entry["empathy"], "why": entry["why"]}
        elif part.kind == "rating":
            ratings, whys = entry["ratings"], entry["why"]
            reasons = " ".join(f"({k}) {whys[k]}" for k in ratings)
            reference[item_id] = {**ratings, "best": entry["best"],
                                  "why": f"Most helpful: ({entry['best']}). {entry['why_best']} {reasons}"}
        elif part.kind == "concerns":
            reference[item_id] = {"feelings": sorted(entry["feelings"]), "concerns": sorted(entry["concerns"]),
                                  "why": entry["why"]}
        elif part.kind == "referral":
            reference[item_id] = {"decision": entry["decision"], "cues": sorted(entry["cues"]), "why": entry["why"]}
    return reference


def _coding_entry_problem(entry: Any, part: Any) -> str | None:
    """What is wrong with one key entry under the rubric in force: the KeyCoder's own check (course.keys)."""
    from course.keys import entry_problem

    problem = entry_problem(entry, tuple(part.rules["code"].values), tuple(part.rules["empathy"].values))
    if problem and "is not in the rubric in force" in problem:
        problem += " (a course with its own rubric cannot include exercises keyed with another)"
    return problem


def read_coded_session(path: Path) -> tuple[list[str], list[int]]:
    """The listener turns' codes and empathy levels from a coded-session CSV (turn,speaker,code,empathy,text)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["speaker"] == "therapist"]
    return [r["code"] for r in rows], [int(r["empathy"]) for r in rows]


def _metrics_reference(part_id: str) -> dict[str, dict[str, Any]]:
    from course.items import load_item_set
    from course.library import data_file

    item_set = load_item_set(part_id)
    sessions = {Path(name).stem: session_summary(*read_coded_session(data_file(name)))
                for name in item_set.data}  # type: ignore[union-attr]
    values = list(sessions.values())
    first, last = values[0], values[-1]
    names = list(sessions)
    reference = {}
    for item in item_set.items:
        if item.id == "change":
            values = {m: last[m] - first[m] for m in first}
            why = f"Each value is {names[-1]} minus {names[0]}: " + ", ".join(
                f"{m} {last[m]:.4g} - {first[m]:.4g}" for m in first) + "."
        else:
            values = sessions[_session_for(item.id, names)]
            why = "Computed from the listener rows: " + ", ".join(f"{m} = {v:.4g}" for m, v in values.items()) + "."
        reference[item.id] = {m.id: round(values[m.id], 6) for m in item_set.metrics} | {"why": why}  # type: ignore[union-attr]
    return reference


def _session_for(item_id: str, names: list[str]) -> str:
    for name in names:
        if name.endswith(item_id):
            return name
    raise ContentError(f"metrics item {item_id!r} names no data file (have {', '.join(names)}).")


# -- notebook cells ---------------------------------------------------------------------------------------------
@dataclass
class _Cells:
    cells: list

    def markdown(self, cell_id: str, text: str, *, grade: bool = False, solution: bool = False,
                 points: float | None = None) -> None:
        cell = nbformat.v4.new_markdown_cell(text.strip("\n"), id=cell_id)
        cell.metadata["nbgrader"] = _meta(cell_id, grade=grade, solution=solution, points=points)
        self.cells.append(cell)

    def code(self, cell_id: str, source: str, *, grade: bool = False, solution: bool = False,
             points: float | None = None, nbgrader: bool = True, tags: tuple[str, ...] = ()) -> None:
        cell = nbformat.v4.new_code_cell(source.strip("\n"), id=cell_id)
        if tags:
            cell.metadata["tags"] = list(tags)
        if nbgrader:
            cell.metadata["nbgrader"] = _meta(cell_id, grade=grade, solution=solution, points=points)
        self.cells.append(cell)


def _meta(cell_id: str, *, grade: bool, solution: bool, points: float | None) -> dict:
    meta = {"grade": grade, "grade_id": cell_id.replace("-", "_"), "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points if points is not None else 0
    return meta


def _solution_literal(variable: str, value: dict) -> str:
    body = format_literal(value)
    inner = body[2:-2] if body.startswith("{\n") else ""
    return f"{variable} = {{\n    ### BEGIN SOLUTION\n{inner}\n    ### END SOLUTION\n}}"


def _answer_cell(variable: str, value: dict) -> str:
    """An answer cell as the trainee gets it (see course.widgets.recorder.answer_cell_text), with the solution
    region nbgrader clears on release."""
    return (f"from course.widgets import record\n\n{_solution_literal(variable, value)}\n"
            f'record("{variable}", {variable})')


def _reference_literal(reference: dict) -> str:
    lines = ["REFERENCE = {"]
    for item_id, entry in reference.items():
        fields = ", ".join(f"{json.dumps(k)}: {_py(v)}" for k, v in entry.items() if k != "why")
        lines.append(f"    {json.dumps(item_id)}: {{{fields},")
        lines.append(f"        \"why\": {json.dumps(entry['why'], ensure_ascii=False)}}},")
    lines.append("}")
    return "\n".join(lines)


def _py(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # ints, floats, strings and lists: JSON is valid Python here


# A format check fails (raises) until a part is complete; with this tag JupyterLab's Run All goes on to the next
# part instead of stopping there (nbgrader runs every cell anyway).
RUN_ALL_GOES_ON = "raises-exception"

HOW_SCORED = {
    "coding": "Each listener turn is worth 2 points: the behaviour code earns 1 if it matches the expert reference; "
              "the empathy level earns 1 if it matches, 0.5 if it is one level away, 0 if further.",
    "rating": "Each response's empathy rating earns 1 point if it matches the reference, 0.5 if one level away; "
              "picking the most helpful response earns 1 point.",
    "concerns": "Feelings and concerns are each worth 1 point, scored by overlap with the expert's set: the labels "
                "you share divided by all labels either of you chose, so both missed and extra labels cost.",
    "referral": "The decision earns 1 point if it matches, 0.5 if it is one step away on the scale from 'keep "
                "listening' to 'urgent help now'; the cues earn 1 point scored by overlap with the expert's set.",
    "metrics": "Each number earns 1 point if it lies within the stated tolerance of the reference value.",
}


def build_exercise(entry: ExerciseEntry, keys: Path | tuple[Path, ...]) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one exercise, its references read from the key files in ``keys`` (a folder,
    or folders searched in order)."""
    from course.items import load_item_set
    from course.parts import load_part

    cells = _Cells([])
    auto_parts = [(p, load_part(p.part)) for p in entry.parts if p.graded == "auto"]
    manual = [p for p in entry.parts if p.graded == "manual"]
    total = sum(part.n_fields for _, part in auto_parts)
    manual_points = 0.0
    for p in manual:
        manual_points += _manual_points(load_item_set(p.part))
    parts_list = "\n".join(f"{i}. {load_part(p.part).title if p.graded == 'auto' else load_item_set(p.part).title}"
                           for i, p in enumerate(entry.parts, 1))
    kinds = {part.kind for _, part in auto_parts}
    scoring = "\n".join(f"* {HOW_SCORED[k]}" for k in HOW_SCORED if k in kinds)
    points_text = f"{total:g} autograded" + (f" + {manual_points:g} graded by hand" if manual_points else "")
    before = (f" · **Before you start:** work through\nthe lesson `course/lessons/{entry.lesson}`." if entry.lesson
              else "")
    cells.markdown("introduction", f"""
# {entry.title}

**Module {entry.module} · {entry.tier.capitalize()}** · **Points:** {points_text}{before}

{entry.intro}

**Parts**

{parts_list}

**How it is scored**

{scoring}

**How your answers are kept.** A form lives in the kernel, which forgets everything when it stops. So after
answering, run the answer cell below each form: the form writes your choices into that cell. Then save the
notebook (Ctrl+S). What your instructor grades is the saved notebook file, nothing else.
""")
    for number, p in enumerate(entry.parts, 1):
        if p.graded == "manual":
            _manual_cells(cells, number, p, keys)
            continue
        part = load_part(p.part)
        key_path = key_file(keys, p.part)
        # Session metrics are computed from the coded-session data itself; every other part has a key file.
        key = {} if part.kind == "metrics" else load_key(keys, p.part)
        reference = reference_for(p.part, key, str(key_path))
        _auto_cells(cells, number, p, part, entry, reference)
    if entry.resources:
        cells.markdown("support", """
## Support

This exercise deals with suicidal thoughts and self-harm. If it has touched something in your own life, or you
are worried about someone, these services are there for exactly that (your instructor may have set local ones):
""")
        cells.code("support-resources", "from course.resources import show_resources\n\nshow_resources()",
                   nbgrader=False)
    nb = nbformat.v4.new_notebook(cells=cells.cells, metadata=NOTEBOOK_METADATA)
    nb.nbformat_minor = 5
    return nb


def _auto_cells(cells: _Cells, number: int, p: PartEntry, part: Any, entry: ExerciseEntry, reference: dict) -> None:
    v = p.variable
    points = float(part.n_fields)  # one point per answer field, as the scoring rule says
    what = {
        "coding": f"Code each of the {len(part.items)} listener turns: one behaviour code and one empathy level.",
        "rating": f"For each of the {len(part.items)} client statements, rate every candidate response on the "
                  "empathy scale, and pick the one you judge most helpful.",
        "concerns": f"For each of the {len(part.items)} statements, choose the feelings it expresses (named or "
                    "not) and the concern underneath. Hold Ctrl (Cmd on a Mac) to choose more than one.",
        "referral": f"For each of the {len(part.items)} situations, decide what the listener should do, and mark "
                    "the cues that decided it (none, if nothing points to risk or scope).",
        "metrics": "Compute the summary scores with pandas in the working cell, then type the numbers into the "
                   "form.",
    }[part.kind]
    tolerance = ""
    if part.kind == "metrics":
        tolerance = "\n\n" + "\n".join(f"* `{name}`: {rule.label}, within ±{rule.tolerance:g}"
                                       for name, rule in part.rules.items())
    cells.markdown(f"part-{v}", f"## Part {number} · {part.title}\n\n**{points:g} points.** {what}{tolerance}")
    if part.kind == "metrics":
        from course.items import load_item_set

        data = load_item_set(part.id).data  # type: ignore[union-attr]
        loads = "\n".join(f"{Path(name).stem.replace('-', '_')} = pd.read_csv(data_file(\"{name}\"))"
                          for name in data)
        cells.code(f"work-{v}", f"""
# Your working (not graded): compute the metrics here.
import pandas as pd

from course.library import data_file

{loads}
""", nbgrader=False)
    cells.code(f"form-{v}", f"""
from course.widgets import AnswerForm

{v}_form = AnswerForm("{part.id}", exercise="{entry.id}", test_cell="score_{v}", variable="{v}")
{v}_form
""")
    cells.markdown(f"save-intro-{v}", """
Run this cell after answering (Shift+Enter). The form fills it in with your choices; then save with Ctrl+S.
If you change something in the form later, run this cell again and save again. If the cell does not fill
itself in (some notebook apps do not allow it), open *Your answers as text* in the form and paste that text
here instead.
""")
    solution = {item_id: {k: val for k, val in ref.items() if k != "why"} for item_id, ref in reference.items()}
    cells.code(f"answers-{v}", _answer_cell(v, solution), solution=True)
    cells.code(f"check-{v}", f'from course.widgets import check\n\ncheck("{v}")')
    cells.code(f"format-{v}", f"""
# Format only: is every item answered in the right form? (No points by itself.)
from autograder.cells import check_format

check_format(globals().get("{v}"), "{part.id}")
""", grade=True, points=0, tags=(RUN_ALL_GOES_ON,))
    cells.code(f"score-{v}", f"""
# Your score for this part is computed here from the saved notebook when it is graded (in a course, by
# your instructor). Working on your own, the self-check above gives the same score.
### BEGIN HIDDEN TESTS
from autograder.cells import grade

{_reference_literal(reference)}

grade(globals().get("{v}"), REFERENCE, part="{part.id}", points={points:g})
### END HIDDEN TESTS
""", grade=True, points=points)


def _manual_points(item_set: Any) -> float:
    return float((item_set.points_per_response + 1) * len(item_set.items))  # + 1 per self-coded response


def _manual_cells(cells: _Cells, number: int, p: PartEntry, keys: Path | tuple[Path, ...]) -> None:
    from course.items import load_item_set
    from course.parts import load_part

    s = load_item_set(p.part)
    key = load_key(keys, p.part).get("items", {})
    table = "\n".join(f"| {c.criterion} | {c.points} | {c.description} |" for c in s.marking)
    cells.markdown(f"part-{p.variable}", f"""
## Part {number} · {s.title}

**{_manual_points(s):g} points, graded by hand** by your instructor with this marking guide
({s.points_per_response} points per response):

| Criterion | Points | What earns it |
|---|---|---|
{table}

Write each response as you would say it to the person: one to three sentences, in your own words.
""")
    for item in s.items:
        cid = item.id.lower()
        cells.markdown(f"statement-{cid}", f"**{item.id}** · *{item.who}*\n\n> {item.statement}")
        example = key.get(item.id, {}).get("example", "")
        cells.markdown(f"response-{cid}", f"### BEGIN SOLUTION\n{example}\n### END SOLUTION",
                       grade=True, solution=True, points=s.points_per_response)
    v = p.variable
    cells.markdown(f"self-coding-intro-{v}", f"""
### Coding your own responses ({len(s.items)} points, graded by hand)

Now code each response you wrote, with the rubric, as if a colleague had written it: one behaviour code and
one empathy level each. Your instructor grades how honest and accurate this self-coding is (1 point per
response); generous self-ratings are common, and spotting your own roadblocks is the skill.
""")
    cells.code(f"form-{v}", f"""
from course.widgets import AnswerForm

{v}_form = AnswerForm("{s.id}", variable="{v}")
{v}_form
""")
    rules = load_part(s.id).rules  # the rubric in force: an example self-coding must be one of its answers
    default = {"code": rules["code"].values[0], "empathy": rules["empathy"].values[len(rules["empathy"].values) // 2]}
    example = {i.id: key.get(i.id, {}).get("self_coding", default) for i in s.items}
    cells.code(f"answers-{v}", _answer_cell(v, example), grade=True,
               solution=True, points=len(s.items))
    cells.code(f"format-{v}", f"""
# Format only: is every response coded? (No points by itself.)
from autograder.cells import check_format

check_format(globals().get("{v}"), "{s.id}")
""", grade=True, points=0, tags=(RUN_ALL_GOES_ON,))


def open_second_codings(exercise: Exercise) -> dict[str, dict[Path, list[str]]]:
    """The open disagreements of the second-coding records of an exercise's transcripts, in its key folders:
    {transcript: {record: [turns]}} (see course.adjudication)."""
    from course.adjudication import load_yaml, open_disagreements, record_files

    found: dict[str, dict[Path, list[str]]] = {}
    for p in exercise.entry.parts:
        for folder in exercise.keys:
            for record in record_files(folder, p.part):
                turns = [d.turn for d in open_disagreements(load_yaml(record))]
                if turns:
                    found.setdefault(p.part, {})[record] = turns
    return found


def second_coding_gate(exercise: Exercise, allow_open: tuple[str, ...] | list[str] = ()) -> None:
    """Refuse to build an exercise while a disagreement between a key and its second coding is open, unless the
    instructor allows that transcript by name (`attune build --allow-open TRANSCRIPT`)."""
    blocked = {t: r for t, r in open_second_codings(exercise).items() if t not in allow_open}
    if not blocked:
        return
    lines = [f"{exercise.entry.id}: not built: the key and its second coding disagree, undecided, on"]
    for transcript, records in blocked.items():
        for record, turns in records.items():
            lines.append(f"  - {transcript}: {', '.join(turns)} ({record.parent.parent.parent.name}/"
                         f"{record.parent.parent.name}/{record.parent.name}/{record.name})")
    first = next(iter(blocked))
    lines.append(f"See them with `attune agreement {first}`, decide them in a notebook (from "
                 f"course.widgets.adjudication import Adjudicate; Adjudicate(\"{first}\")), or build anyway with "
                 f"`attune build --allow-open {first}`.")
    raise ContentError("\n".join(lines))


def write_exercise(exercise: Exercise, solutions: Path, allow_open: tuple[str, ...] | list[str] = ()) -> Path:
    """Write one exercise's source notebook, and the course's own content it needs beside it; return its path.
    Not while a second coding of one of its transcripts has an open disagreement (unless ``allow_open`` names it)."""
    entry = exercise.entry
    second_coding_gate(exercise, allow_open)
    path = solutions / entry.id / entry.notebook
    notebook = build_exercise(entry, exercise.keys)  # first: a key or content problem leaves nothing written
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
    write_content(entry, solutions / entry.id / CONTENT_FOLDER)
    return path


def released_content(entry: ExerciseEntry) -> dict[str, Path]:
    """What a trainee's kernel needs to show and check this exercise that is not in the installed package: the
    course's own transcripts, item files and coded-session data of its parts, and the course's own rubric and
    vocabularies if it has them. Never a key: keys are separate files, in keys/. {path in content/: source}."""
    from course.items import load_item_set
    from course.library import data_file, is_shipped, locate, setting

    needed: dict[str, Path] = {}
    for p in entry.parts:
        for kind in ("transcripts", "items"):
            source = locate(kind, p.part)
            if source is not None and not is_shipped(source):
                needed[f"{kind}/{source.name}"] = source
                if kind == "items":
                    for name in getattr(load_item_set(p.part), "data", None) or []:
                        if not is_shipped(data_file(name)):
                            needed[f"data/{name}"] = data_file(name)
    for name in ("rubric.yaml", "vocabulary/feelings-and-concerns.yaml", "vocabulary/referral.yaml"):
        if not is_shipped(setting(name)):
            needed[name] = setting(name)
    return needed


def write_content(entry: ExerciseEntry, folder: Path) -> None:
    """Write ``folder`` (solutions/<exercise>/content/) afresh with released_content(entry); none if empty."""
    import shutil

    if folder.exists():
        shutil.rmtree(folder)
    for relative, source in sorted(released_content(entry).items()):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
