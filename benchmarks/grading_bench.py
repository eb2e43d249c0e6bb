"""Benchmark: static grading against nbgrader autograde, and against merely parsing the same notebooks.

    python benchmarks/grading_bench.py [--submissions 1000] [--executed 40] [--exercise ex01]

In a scratch course folder (this repository's nbgrader_config.py and solutions/), `nbgrader generate_assignment`
releases the exercise; N simulated trainees (autograder.core.simulate's coder profiles) answer it as the forms
would and their notebooks are written to submitted/. Then, side by side in one run:

1. parse floor: read each submitted notebook, parse its JSON and pull every answer literal out with `ast`;
2. static: `attune grade --static` (autograder.orchestration.static_run.grade_static): the same reading, plus
   scoring, the gradebook rows and the autograded notebooks written;
3. executed: `nbgrader autograde` (the project's config, one call) on the first K of the same submissions.

It prints per-notebook times and their ratios, and checks that the executed and static grades are equal on
every cell of the K submissions graded both ways. Goal (issue 5): static at least 200x faster per notebook than
autograde, and within 4x of the parse floor.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.adapters.config import CourseConfig  # noqa: E402
from autograder.authoring.exercises import nbgrader_env, run_nbgrader  # noqa: E402
from autograder.core.literals import cell_source, value_assigned  # noqa: E402
from autograder.core.simulate import cohort_profiles  # noqa: E402
from autograder.demo import answer_notebook  # noqa: E402
from autograder.instructor.cohort import graded_parts  # noqa: E402
from autograder.orchestration.static_run import grade_static  # noqa: E402


def make_cohort(course: Path, exercise: str, n: int, seed: int = 11) -> list[Path]:
    """N submissions of one exercise, answered by simulated trainees, with nbgrader's timestamp file."""
    run_nbgrader(["generate_assignment", exercise, "--force"], cwd=course)
    released = sorted((course / "exercises" / exercise).glob("*.ipynb"))
    parts = graded_parts(course / "solutions", exercise)
    rng = random.Random(seed)
    paths = []
    for number, profile in enumerate(cohort_profiles(n)):
        folder = course / "submitted" / f"t{number:04d}" / exercise
        folder.mkdir(parents=True)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
        for notebook in released:
            shutil.copyfile(notebook, folder / notebook.name)
            answer_notebook(folder / notebook.name, parts, profile, rng)
            paths.append(folder / notebook.name)
    return paths


def parse_floor(paths: list[Path], variables: list[tuple[str, str]]) -> float:
    """Seconds to read the notebooks and extract every answer literal: no scoring, no writing."""
    start = time.perf_counter()
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}
        for answer_cell, variable in variables:
            value_assigned(cell_source(cells[answer_cell]), variable)
    return time.perf_counter() - start


def scratch_course(scratch: str, exercise: str) -> Path:
    """A course folder in ``scratch``: this repository's nbgrader_config.py and the exercise's solutions/."""
    course = Path(scratch) / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / exercise, course / "solutions" / exercise)
    return course


def executed(course: Path, exercise: str, students: list[str], everyone: list[str],
             extra: tuple[str, ...] = ()) -> float:
    """Seconds of one `nbgrader autograde --force` over ``students`` (the rest of ``everyone`` excluded)."""
    others = ",".join(sorted(set(everyone) - set(students)))
    command = [sys.executable, "-m", "nbgrader", "autograde", exercise, "--force", *extra]
    if others:
        command.append(f"--CourseDirectory.student_id_exclude={others}")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def grades(course: Path, exercise: str, students: set[str]) -> dict[tuple[str, str, str], float | None]:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        for submission in gb.assignment_submissions(exercise):
            if submission.student.id in students:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        found[submission.student.id, notebook.name, grade.name] = grade.auto_score
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--executed", type=int, default=40, help="how many of them nbgrader autograde runs")
    parser.add_argument("--exercise", default="ex01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attune-grading-bench-") as scratch:
        course = scratch_course(scratch, args.exercise)
        print(f"Writing {args.submissions} simulated submissions of {args.exercise} ...", flush=True)
        paths = make_cohort(course, args.exercise, args.submissions)
        size = statistics.median(p.stat().st_size for p in paths) / 1024
        everyone = sorted(p.parent.parent.name for p in paths)
        sample = everyone[:args.executed]
        variables = [(f"answers_{p.variable}", p.variable) for p in graded_parts(course / "solutions", args.exercise)]

        # Three identical copies for static grading, so that it is timed best-of-3 like the parse floor.
        copies = [Path(scratch) / f"static-{i}" for i in range(3)]
        for copy in copies:
            shutil.copytree(course, copy)
        print(f"nbgrader autograde on {len(sample)} of them (one call) ...", flush=True)
        executed_s = executed(course, args.exercise, sample, everyone)
        executed_grades = grades(course, args.exercise, set(sample))
        shutil.copytree(course / "autograded", Path(scratch) / "executed-autograded")

        # Best of 3 for both, each run starting with the file system written back (os.sync) and the
        # submissions in the page cache: the floor and the cost, not the noise of the steps before.
        os.sync()
        floor_s = min(parse_floor(paths, variables) for _ in range(3))
        summaries = []
        for copy in copies:
            os.sync()
            summaries.append(grade_static(CourseConfig.load(copy), args.exercise, progress=False))
        static_summary = min(summaries, key=lambda s: s.seconds)
        print("static runs: " + ", ".join(f"{s.seconds:.2f} s" for s in summaries))
        static_grades = grades(copies[0], args.exercise, set(sample))

    n_exec, n_static = len(sample), static_summary.notebooks
    per_exec, per_static, per_floor = executed_s / n_exec, static_summary.seconds / n_static, floor_s / len(paths)
    mismatched = [k for k in executed_grades if executed_grades[k] != static_grades.get(k)]
    print()
    print(f"notebooks: {len(paths)} submitted ({size:.0f} KiB median), {n_exec} also through nbgrader autograde")
    print(f"{'':28}{'total s':>10}{'per notebook':>16}")
    print(f"{'nbgrader autograde':28}{executed_s:>10.2f}{per_exec * 1000:>13.1f} ms   ({n_exec} notebooks)")
    print(f"{'attune grade --static':28}{static_summary.seconds:>10.2f}{per_static * 1000:>13.2f} ms   "
          f"({n_static} notebooks)")
    print(f"{'parse floor (read+ast)':28}{floor_s:>10.2f}{per_floor * 1000:>13.2f} ms   ({len(paths)} notebooks)")
    print(f"static is {per_exec / per_static:,.0f}x faster per notebook than nbgrader autograde (goal >= 200x)")
    print(f"static takes {per_static / per_floor:.2f}x the parse floor per notebook (goal <= 4x)")
    print(f"executed vs static grades on the {n_exec} submissions graded both ways: "
          f"{len(executed_grades) - len(mismatched)} of {len(executed_grades)} cells equal")
    ok = per_exec / per_static >= 200 and per_static / per_floor <= 4 and not mismatched
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
