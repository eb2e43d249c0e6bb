"""Benchmark: cohort analytics and the HTML report for a large cohort (default 10,000 trainees x 300 items).

    python benchmarks/analytics_bench.py [--trainees 10000] [--items 300]

Builds a synthetic tidy cohort table (one row per trainee x item x field: a behaviour code and an empathy level
per item, as in transcript coding), then times the analytics the report needs (per-trainee kappas, leniency,
certification, code confusion, item difficulty and discrimination) and the report itself, and prints the
process's peak memory. The goal (issue 4): at most 10 s and 1 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.instructor.analytics import DEFAULT_THRESHOLDS
from autograder.instructor.cohort import COLUMNS
from autograder.instructor.report import analyse, report_html

CODES = np.array(["OQ", "CQ", "SR", "CR", "AF", "VA", "RS", "GI", "AD", "AP", "CO", "SC", "EA", "SD", "NC"])


def constant(n: int, value: str) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])


def synthetic_table(trainees: int, items: int, seed: int = 1) -> pd.DataFrame:
    """A cohort of coders of varying skill and leniency, in the cohort table's columns and dtypes."""
    rng = np.random.default_rng(seed)
    skill = rng.uniform(0.3, 0.95, trainees)
    lean = rng.choice([-1, 0, 0, 0, 1], trainees)
    ref_code = rng.integers(0, len(CODES), items)
    ref_level = rng.integers(1, 6, items)
    right = rng.random((trainees, items)) < skill[:, None]
    given_code = np.where(right, ref_code[None, :], rng.integers(0, len(CODES), (trainees, items)))
    shift = np.where(rng.random((trainees, items)) < 0.6, lean[:, None], rng.integers(-1, 2, (trainees, items)))
    given_level = np.clip(ref_level[None, :] + np.where(right, 0, shift), 1, 5)
    n = trainees * items
    student = pd.Categorical.from_codes(np.repeat(np.arange(trainees), items),
                                        [f"trainee-{i:05d}" for i in range(trainees)])
    item = pd.Categorical.from_codes(np.tile(np.arange(items), trainees), [f"T{i + 1}" for i in range(items)])
    code_rows = pd.DataFrame({
        "student": student, "assignment": constant(n, "bench"), "part": constant(n, "bench"),
        "item": item, "field": constant(n, "code"), "label": constant(n, "behaviour code"),
        "kind": constant(n, "exact"),
        "expected": pd.Categorical.from_codes(np.tile(ref_code, trainees), CODES),
        "given": pd.Categorical.from_codes(given_code.ravel(), CODES),
        "expected_num": np.full(n, np.nan, dtype="float32"), "given_num": np.full(n, np.nan, dtype="float32"),
        "credit": (given_code == ref_code[None, :]).ravel().astype("float32"),
        "possible": np.ones(n, dtype="float32"),
        "why": pd.Categorical.from_codes(np.tile(np.arange(items), trainees), [f"Reason {i}." for i in range(items)]),
        "problem": constant(n, ""),
    })
    distance = np.abs(given_level - ref_level[None, :]).ravel()
    level_rows = code_rows.copy()
    level_rows["field"] = constant(n, "empathy")
    level_rows["label"] = constant(n, "empathy level")
    level_rows["kind"] = constant(n, "ordinal")
    levels = np.array(["1", "2", "3", "4", "5"])
    level_rows["expected"] = pd.Categorical.from_codes(np.tile(ref_level - 1, trainees), levels)
    level_rows["given"] = pd.Categorical.from_codes(given_level.ravel() - 1, levels)
    level_rows["expected_num"] = np.tile(ref_level, trainees).astype("float32")
    level_rows["given_num"] = given_level.ravel().astype("float32")
    level_rows["credit"] = np.select([distance == 0, distance == 1], [1.0, 0.5], 0.0).astype("float32")
    table = pd.concat([code_rows, level_rows], ignore_index=True)
    for column in ("expected", "given", "field", "label", "kind"):
        table[column] = table[column].astype("category")
    return table[COLUMNS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="write the report here (default: not kept)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    table = synthetic_table(args.trainees, args.items)
    t1 = time.perf_counter()
    peak_after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = analyse(table, DEFAULT_THRESHOLDS)
    t2 = time.perf_counter()
    page = report_html(table, results, DEFAULT_THRESHOLDS)
    t3 = time.perf_counter()
    # A second, traced pass for memory alone (tracing slows it down): numpy and pandas report their buffers
    # to tracemalloc, so its peak is what the analytics and the report allocate on top of the table.
    tracemalloc.start()
    report_html(table, analyse(table, DEFAULT_THRESHOLDS), DEFAULT_THRESHOLDS)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if args.out:
        args.out.write_text(page, encoding="utf-8")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    print(f"cohort: {args.trainees:,} trainees x {args.items} items = {len(table):,} rows "
          f"({table.memory_usage(deep=True).sum() / 2**20:.0f} MiB in memory)")
    print(f"build synthetic table (not part of the goal): {t1 - t0:6.2f} s")
    print(f"analytics (kappas, leniency, certification, confusion, item statistics): {t2 - t1:6.2f} s")
    print(f"report (HTML with inline SVG plots, {len(page) / 2**20:.1f} MiB): {t3 - t2:6.2f} s")
    print(f"analytics + report: {t3 - t1:6.2f} s   (goal: <= 10 s)")
    print(f"peak memory of this process, table included (ru_maxrss): {peak_mib:,.0f} MiB   (goal: <= 1024 MiB)")
    print(f"  peak already reached while building the synthetic table: {peak_after_build:,.0f} MiB")
    print(f"  allocated by analytics + report on top of the table (tracemalloc peak): {traced_peak / 2**20:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
