"""`attune demo`: an instructor's whole job on the embedded defaults, with a simulated cohort.

In a fresh course folder with a SQLite gradebook and a local exchange, it adds N trainees with realistic coder
profiles (autograder.core.simulate), then runs the real nbgrader steps: generate and release each exercise, every
trainee fetches it, answers it (the answer cells written as the forms write them) and submits it through the
exchange, then collect, autograde, generate and release feedback, and export. Last, the cohort report.
"""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from course.errors import AttuneError

DEFAULT_EXERCISES = ("ex01", "ex03")
EXCHANGE_CONFIG = """

# --- added by `attune demo`: a local exchange inside this folder, so no system folders are touched.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
c.Exchange.path_includes_course = False
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Every simulated trainee submits as the one Unix user running the demo, so folder owners tell nobody apart here:
# collect as nbgrader does, without Attune's refusal of folders owned by another user (autograder/adapters/exchange.py).
c.ExchangeCollect.check_owner = False
"""


@dataclass(frozen=True)
class DemoResult:
    root: Path
    report: Path
    exports: dict[str, Path]
    profiles: dict[str, str]
    seconds: float


def default_exercises(source_root: Path) -> list[str]:
    """ex01 and ex03 of the shipped course; every built exercise of a course of one's own."""
    from autograder.authoring.build import MANIFEST, SHIPPED_SOLUTIONS, course_exercises

    solutions = source_root / "solutions"
    if solutions.resolve() == SHIPPED_SOLUTIONS or not (solutions / MANIFEST).is_file():
        return list(DEFAULT_EXERCISES)
    return [x.entry.id for x in course_exercises(solutions) if (solutions / x.entry.id / x.entry.notebook).is_file()]


def _progress(iterable=None, **kw):  # tqdm, imported when a long step starts
    from tqdm import tqdm

    return tqdm(iterable, file=sys.stdout, dynamic_ncols=True, mininterval=0.5, **kw)


def prepare_course(source_root: Path, dest: Path, exercises: list[str], force: bool) -> Path:
    """A fresh course folder: the course's nbgrader config plus a local exchange, and the exercises' sources."""
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise AttuneError(f"{dest} already exists and is not empty. Choose another --dest, or add --force to "
                              "replace it.")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    config = (source_root / "nbgrader_config.py").read_text(encoding="utf-8") + EXCHANGE_CONFIG
    (dest / "nbgrader_config.py").write_text(config, encoding="utf-8")
    for exercise in exercises:
        src = source_root / "solutions" / exercise
        if not src.is_dir():
            raise AttuneError(f"no solutions/{exercise} in {source_root}: run `attune build {exercise}` first.")
        shutil.copytree(src, dest / "solutions" / exercise,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    if (source_root / "content").is_dir():  # a course of one's own: its content, for the grading processes in dest
        shutil.copytree(source_root / "content", dest / "content")
    (dest / "exchange").mkdir()
    (dest / "exchange").chmod(0o777)
    return dest


def _exchange(kind: str, root: Path, exercise: str, student: str, course_id: str | None = None) -> None:
    """Fetch or submit as one trainee, through nbgrader's own exchange classes (in this process: fast), in the
    course ``course_id`` (default: the one the course folder's nbgrader_config.py names)."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit
    from traitlets.config import Config

    from autograder.adapters.config import load_config

    course_id = course_id if course_id is not None else load_config(root).course_id
    config = Config()
    config.CourseDirectory.course_id = course_id
    config.Exchange.root = str(root / "exchange")
    config.Exchange.path_includes_course = False
    config.Exchange.cache = str(root / "home" / student / ".nbgrader-cache")
    config.Exchange.assignment_dir = str(root / "home" / student)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = exercise
    coursedir.student_id = student
    cls = ExchangeFetchAssignment if kind == "fetch" else ExchangeSubmit
    cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()


def answer_notebook(path: Path, exercise_parts: list, profile: str, rng: random.Random) -> None:
    """Write a simulated trainee's answers into the fetched notebook's answer cells, as the forms would."""
    from autograder.core.literals import cell_source, grade_cell
    from autograder.core.simulate import simulate_answers
    from course.parts import load_part
    from course.rubric import load_rubric
    from course.widgets.recorder import replace_assignment

    nb = json.loads(path.read_text(encoding="utf-8"))
    for part in exercise_parts:
        if part.notebook != path.stem:
            continue
        answers = simulate_answers(part.reference, load_part(part.part).rules, profile, rng, rubric=load_rubric())
        located = grade_cell(nb, f"answers_{part.variable}")
        if located is None:
            raise AttuneError(f"{path}: no answer cell for {part.variable}; rebuild the exercise (attune build).")
        cell = located[1]
        cell["source"] = replace_assignment(cell_source(cell), part.variable, answers)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _autograde_with_progress(root: Path, exercise: str, total: int) -> None:
    """`nbgrader autograde`, with a progress bar fed by its log ("Autograding <notebook>" per notebook)."""
    command = [sys.executable, "-m", "nbgrader", "autograde", exercise]
    process = subprocess.Popen(command, cwd=root, env=nbgrader_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = []
    with _progress(total=total, desc=f"autograde {exercise}", unit="notebook") as bar:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if re.search(r"\] Autograding ", line):
                bar.update(1)
    if process.wait() != 0:
        raise AttuneError(f"`nbgrader autograde {exercise}` failed:\n{''.join(lines[-40:])}")


def run_demo(source_root: Path, dest: Path, trainees: int = 30, exercises: list[str] | None = None,
             seed: int = 7, force: bool = False) -> DemoResult:
    from autograder.adapters.config import load_config
    from autograder.adapters.gradebook import add_students
    from autograder.core.simulate import cohort_profiles
    from autograder.instructor.analytics import Thresholds
    from autograder.instructor.cohort import cohort_table, graded_parts, review_flags
    from autograder.instructor.report import write_outputs
    from autograder.orchestration.attention import course_view
    from autograder.orchestration.compare import compare

    started = time.perf_counter()
    exercises = list(exercises or default_exercises(source_root))
    root = prepare_course(source_root, dest.resolve(), exercises, force)
    rng = random.Random(seed)
    profile_list = cohort_profiles(trainees)
    rng.shuffle(profile_list)
    profiles = {f"trainee-{i:03d}": p for i, p in enumerate(profile_list, 1)}
    with (root / "roster.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "simulated_profile"])
        writer.writerows(profiles.items())
    print(f"Course folder: {root}\n{trainees} simulated trainees: " + ", ".join(
        f"{profile_list.count(p)} {p}" for p in dict.fromkeys(profile_list)), flush=True)

    # The gradebook and course id as every `attune` command reads them: from the demo course's nbgrader_config.py.
    config = load_config(root)
    add_students(config, {student: ("Trainee", student.split("-")[1]) for student in profiles})

    for exercise in exercises:
        print(f"nbgrader generate_assignment {exercise} + release_assignment {exercise}", flush=True)
        run_nbgrader(["generate_assignment", exercise, "--force"], cwd=root)
        run_nbgrader(["release_assignment", exercise, "--force"], cwd=root)
        parts = graded_parts(root / config.source, exercise)
        for student in _progress(profiles, desc=f"trainees fetch, answer, submit {exercise}", unit="trainee"):
            _exchange("fetch", root, exercise, student, config.course_id)
            for notebook in sorted((root / "home" / student / exercise).glob("*.ipynb")):
                answer_notebook(notebook, parts, profiles[student], rng)
            _exchange("submit", root, exercise, student, config.course_id)
        run_nbgrader(["collect", exercise], cwd=root)
        _autograde_with_progress(root, exercise, total=len(profiles))
        checked = compare(config, exercise)
        print(f"attune grade {exercise} --compare: {checked.compared} notebooks, {len(checked.differences)} cell(s) "
              "where the executed score differs from the answers as written", flush=True)
        print(f"nbgrader generate_feedback {exercise} + release_feedback {exercise}", flush=True)
        run_nbgrader(["generate_feedback", exercise], cwd=root)
        run_nbgrader(["release_feedback", exercise], cwd=root)
    run_nbgrader(["export", "--to", str(root / "nbgrader-grades.csv")], cwd=root)

    print("Building the cohort table and the report", flush=True)
    table = cohort_table(config, exercises)
    paths = write_outputs(table, root / "report", Thresholds(), view=course_view(config, exercises),
                          profiles=profiles, review=review_flags(config))
    paths["nbgrader-grades"] = root / "nbgrader-grades.csv"
    seconds = time.perf_counter() - started
    return DemoResult(root, paths["report"], paths, profiles, seconds)


def describe(result: DemoResult) -> str:
    root = result.root
    rel = {k: v.relative_to(root) if v.is_relative_to(root) else v for k, v in result.exports.items()}
    return "\n".join([
        f"Done in {result.seconds:.0f} s. Everything is in {root}:",
        f"  cohort report (open in a browser): {rel['report']}",
        f"  per-trainee debrief pages (answers, reference, reasons): {rel['feedback']}/",
        "  nbgrader's feedback, released to trainees: feedback/ and exchange/",
        f"  trainee summary and certification: {rel['trainees']}",
        f"  item statistics: {rel['items']}   code confusion: {rel['confusion']}",
        f"  totals: {rel['totals']}   Canvas import: {rel['canvas']}   nbgrader export: {rel['nbgrader-grades']}",
        "  gradebook (SQLite): gradebook.db   roster with simulated profiles: roster.csv",
        f"Formgrader on this folder: cd {root} && jupyter lab (then Nbgrader > Formgrader).",
    ])
