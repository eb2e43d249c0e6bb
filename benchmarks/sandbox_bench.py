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
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from grading_bench import executed, grades, make_cohort, scratch_course  # noqa: E402

WAYS = {"sandboxed": (), "unsandboxed": ("--GradingSandbox.run_unsandboxed=True",)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--exercise", default="ex01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attune-sandbox-bench-") as scratch:
        course = scratch_course(scratch, args.exercise)
        paths = make_cohort(course, args.exercise, args.submissions)
        everyone = sorted({p.parent.parent.name for p in paths})
        print(f"{len(paths)} notebooks of {args.exercise}; nbgrader autograde over all of them, {args.rounds} "
              "rounds, alternating which way goes first", flush=True)
        executed(course, args.exercise, everyone, everyone)  # warm-up: caches, .pyc files, the gradebook's rows
        per_notebook: dict[str, list[float]] = {way: [] for way in WAYS}
        recorded: dict[str, dict] = {}
        for number in range(args.rounds):
            order = list(WAYS) if number % 2 == 0 else list(reversed(WAYS))
            for way in order:
                seconds = executed(course, args.exercise, everyone, everyone, WAYS[way])
                per_notebook[way].append(seconds / len(paths))
                recorded[way] = grades(course, args.exercise, set(everyone))
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
