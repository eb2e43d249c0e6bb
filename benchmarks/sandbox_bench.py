"""Benchmark: executed grading per notebook with the grading sandbox and without it, side by side in one run.

    python benchmarks/sandbox_bench.py [--submissions 12] [--rounds 3] [--exercise ex01]

In a scratch course folder (this repository's nbgrader_config.py and solutions/), N simulated trainees answer the
exercise (as benchmarks/grading_bench.py makes them). Then, R rounds, the order alternating within each round
(sandboxed first in odd rounds, last in even ones) so that neither side always runs on a warmer cache: plain
`nbgrader autograde <exercise> --force` over all N submissions, once as configured (every kernel in bubblewrap)
and once with `--GradingSandbox.run_unsandboxed=True`. It prints each run's seconds per notebook, the medians and
their ratio, and checks that both ways record the same grades. Goal (issue 15): the sandbox costs at most 5 %.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from grading_bench import grades, make_cohort  # noqa: E402

from autograder.authoring.exercises import nbgrader_env  # noqa: E402

WAYS = {"sandboxed": [], "unsandboxed": ["--GradingSandbox.run_unsandboxed=True"]}


def autograde(course: Path, exercise: str, extra: list[str]) -> float:
    command = [sys.executable, "-m", "nbgrader", "autograde", exercise, "--force", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"nbgrader autograde failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exercise", default="ex01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attune-sandbox-bench-") as scratch:
        course = Path(scratch) / "course"
        course.mkdir()
        shutil.copy2(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions" / args.exercise, course / "solutions" / args.exercise)
        paths = make_cohort(course, args.exercise, args.submissions)
        students = {p.parent.parent.name for p in paths}
        print(f"{len(paths)} notebooks of {args.exercise}; nbgrader autograde over all of them, {args.rounds} "
              "rounds, alternating which way goes first", flush=True)
        autograde(course, args.exercise, [])  # warm-up: caches, .pyc files, the gradebook's rows
        per_notebook: dict[str, list[float]] = {way: [] for way in WAYS}
        recorded: dict[str, dict] = {}
        for number in range(args.rounds):
            order = list(WAYS) if number % 2 == 0 else list(reversed(WAYS))
            for way in order:
                seconds = autograde(course, args.exercise, WAYS[way])
                per_notebook[way].append(seconds / len(paths))
                recorded[way] = grades(course, args.exercise, students)
                print(f"  round {number + 1} {way:<12} {seconds:7.2f} s  {seconds / len(paths):.3f} s/notebook",
                      flush=True)
        on, off = (statistics.median(per_notebook[w]) for w in ("sandboxed", "unsandboxed"))
        print(f"median per notebook: sandboxed {on:.3f} s, unsandboxed {off:.3f} s; ratio {on / off:.3f} "
              f"(overhead {100 * (on / off - 1):+.1f} %; goal at most +5 %)")
        same = recorded["sandboxed"] == recorded["unsandboxed"]
        print(f"grades recorded both ways: {'identical' if same else 'DIFFERENT'} "
              f"({len(recorded['sandboxed'])} cells)")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
