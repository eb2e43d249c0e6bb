"""Benchmark: executed grading (`attune grade`, the real `nbgrader autograde`) sequential and sharded, on SQLite
and on PostgreSQL, with every grade checked against the sequential run.

    python benchmarks/sharded_grading.py [--submissions 200] [--exercise ex01] [--workers 4]

N simulated trainees answer the exercise (benchmarks/grading_bench.make_cohort, after `nbgrader
generate_assignment`); identical fresh copies of that course folder are then graded by

(a) `attune grade EX --workers 1` on the course's SQLite gradebook (the reference),
(b) `attune grade EX --workers W` on SQLite,
(c) `attune grade EX --workers W --db URL` on a throwaway PostgreSQL server (tests/postgres.py), after
    `nbgrader generate_assignment EX --db URL` there.

It prints each wall time, and for (b) and (c) how many grade cells were compared with (a) and how many are equal,
different, missing or duplicated (also submissions without exactly one submission row). Exits 1 if anything
differs or any run failed. Needs Debian's `postgresql` server package and psycopg 3, as the tests do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from postgres import throwaway_postgres  # noqa: E402

from autograder.authoring.exercises import nbgrader_env, run_nbgrader  # noqa: E402
from benchmarks.grading_bench import make_cohort  # noqa: E402

Key = tuple[str, str, str]  # student, notebook, grade cell
Value = tuple[float | None, bool, float]  # auto_score, needs_manual_grade, max_score


def attune_grade(course: Path, exercise: str, *options: str) -> tuple[float, str]:
    """Run `attune grade` to the end; its wall time in seconds and its output."""
    command = [sys.executable, "-m", "autograder.cli", "grade", exercise, "--course", str(course), "--quiet",
               *options]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0 or "nbgrader reported errors" in output:
        print(f"`attune grade {exercise} {' '.join(options)}` failed (exit {done.returncode}):\n{output}\n"
              f"shard logs: {course / 'grading-logs'}", flush=True)
    return seconds, output


def read_grades(db_url: str, exercise: str) -> tuple[Counter, Counter, dict[Key, Value], set[Key]]:
    """Submission rows per trainee, grade rows per key, the grades, and the keys every submission should have."""
    from nbgrader.api import Gradebook, SubmittedAssignment

    with Gradebook(db_url, course_id="attune") as gb:
        assignment = gb.find_assignment(exercise)
        cells = [(nb.name, c.name) for nb in assignment.notebooks for c in nb.grade_cells]
        submitted = Counter(s for (s,) in gb.db.query(SubmittedAssignment.student_id)
                            .filter(SubmittedAssignment.assignment_id == assignment.id))
        rows = [((sub.student.id, nb.name, g.name), (g.auto_score, bool(g.needs_manual_grade), g.max_score))
                for sub in gb.assignment_submissions(exercise) for nb in sub.notebooks for g in nb.grades]
    expected = {(student, notebook, cell) for student in submitted for notebook, cell in cells}
    return submitted, Counter(k for k, _ in rows), dict(rows), expected


def check(label: str, students: list[str], reference: dict[Key, Value], db_url: str, exercise: str) -> bool:
    """Compare one run's gradebook with the reference grades; print the counts; True if identical."""
    submitted, counts, grades, _ = read_grades(db_url, exercise)
    bad_submissions = sorted(s for s in set(students) | set(submitted) if submitted.get(s, 0) != 1)
    duplicated = [k for k, n in counts.items() if n > 1]
    missing = [k for k in reference if k not in grades]
    unexpected = [k for k in grades if k not in reference]
    equal = sum(grades[k] == v for k, v in reference.items() if k in grades)
    different = [k for k, v in reference.items() if k in grades and grades[k] != v]
    print(f"  {label}: {len(reference)} cells compared, {equal} equal, {len(different)} different, "
          f"{len(missing)} missing, {len(duplicated)} duplicated, {len(unexpected)} unexpected; "
          f"{len(bad_submissions)} trainee(s) without exactly one submission row")
    for what, keys in (("different", different), ("missing", missing), ("duplicated", duplicated),
                       ("unexpected", unexpected), ("submission rows", bad_submissions)):
        if keys:
            print(f"    {what}: {', '.join(map(str, sorted(keys)[:5]))}{' ...' if len(keys) > 5 else ''}")
    return not (different or missing or duplicated or unexpected or bad_submissions) and equal == len(reference)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--exercise", default="ex01")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    os.environ["PATH"] = nbgrader_env()["PATH"]  # nbgrader's Gradebook starts `alembic`
    ex, w = args.exercise, str(args.workers)
    ok = True
    with tempfile.TemporaryDirectory(prefix="attune-sharded-bench-") as scratch:
        base = Path(scratch) / "base"
        base.mkdir()
        shutil.copy2(ROOT / "nbgrader_config.py", base)
        shutil.copytree(ROOT / "solutions" / ex, base / "solutions" / ex,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        print(f"Writing {args.submissions} simulated submissions of {ex} ...", flush=True)
        paths = make_cohort(base, ex, args.submissions)
        students = sorted({p.parent.parent.name for p in paths})
        print(f"{len(paths)} notebooks from {len(students)} trainees", flush=True)
        runs = {name: Path(scratch) / name for name in ("sequential", "sqlite", "postgres")}
        for course in runs.values():
            shutil.copytree(base, course)

        times: dict[str, float] = {}
        print("(a) sequential, SQLite ...", flush=True)
        times["a"], out = attune_grade(runs["sequential"], ex, "--workers", "1")
        print(f"  {out.splitlines()[-1] if out else ''}")
        reference_db = f"sqlite:///{runs['sequential'] / 'gradebook.db'}"
        submitted, counts, reference, expected = read_grades(reference_db, ex)
        seq_ok = (sorted(submitted) == students and set(submitted.values()) == {1} and set(reference) == expected
                  and max(counts.values(), default=0) == 1)
        print(f"  reference: {len(reference)} grade cells for {len(submitted)} submission(s)"
              f"{'' if seq_ok else ' -- INCOMPLETE OR DUPLICATED'}")
        ok &= seq_ok

        print(f"(b) --workers {w}, SQLite ...", flush=True)
        times["b"], out = attune_grade(runs["sqlite"], ex, "--workers", w)
        print(f"  {out.splitlines()[-1] if out else ''}")
        ok &= check("(b) vs (a)", students, reference, f"sqlite:///{runs['sqlite'] / 'gradebook.db'}", ex)

        print(f"(c) --workers {w}, PostgreSQL ...", flush=True)
        with throwaway_postgres(Path(scratch) / "pg") as url:
            (runs["postgres"] / "gradebook.db").unlink()  # every step below must use the server
            run_nbgrader(["generate_assignment", ex, "--force", f"--db={url}"], cwd=runs["postgres"])
            times["c"], out = attune_grade(runs["postgres"], ex, "--workers", w, "--db", url)
            print(f"  {out.splitlines()[-1] if out else ''}")
            ok &= check("(c) vs (a)", students, reference, url, ex)
        if (runs["postgres"] / "gradebook.db").exists():
            print("  (c) wrote the course's SQLite gradebook although --db pointed at PostgreSQL")
            ok = False

    n = len(paths)
    print()
    print(f"{n} notebooks of {ex}, {os.cpu_count()} CPU(s)")
    print(f"{'':34}{'wall s':>9}{'per notebook':>15}{'speed-up':>10}")
    for key, label in (("a", "(a) --workers 1, SQLite"), ("b", f"(b) --workers {w}, SQLite"),
                       ("c", f"(c) --workers {w}, PostgreSQL")):
        print(f"{label:34}{times[key]:>9.1f}{times[key] / n:>13.2f} s{times['a'] / times[key]:>9.2f}x")
    print("all grades present and equal to the sequential run" if ok else "GRADES DIFFER OR ARE MISSING")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
