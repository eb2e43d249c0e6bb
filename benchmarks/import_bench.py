"""Benchmark: importing a large research corpus (default 2,000 transcripts x 50 utterances, two annotators).

    python benchmarks/import_bench.py [--transcripts 2000] [--utterances 50] [--annotators 2] [--keep DIR]

Writes a synthetic CSV corpus in a temporary folder (one row per utterance and annotator, rows shuffled, yes/no +
subtype label columns and an empathy column), imports it into a scratch course folder with
autograder.authoring.importers.corpus (transcripts, key drafts, second-coding records), and prints the wall time
and the process's peak memory. The goal (issue 14): at most 10 s and 1 GiB.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.authoring.importers.corpus import CorpusColumns, import_corpus

HEADER = ["conversation", "utterance_no", "role", "text", "annotator", "reflection", "reflection_type", "question",
          "question_type", "empathy"]
LABELS = [("yes", "simple", "no", ""), ("yes", "complex", "no", ""), ("no", "", "yes", "open"),
          ("no", "", "yes", "closed")]
MAPPING = """codes:
  - {when: {reflection: "yes", reflection_type: "simple"}, code: SR}
  - {when: {reflection: "yes", reflection_type: "complex"}, code: CR}
  - {when: {question: "yes", question_type: "open"}, code: OQ}
  - {when: {question: "yes", question_type: "closed"}, code: CQ}
empathy: {column: empathy}
"""
WORDS = ("I", "you", "the", "work", "sleep", "family", "week", "felt", "really", "tired", "said", "again", "maybe",
         "home", "sister", "hard", "know", "think", "want", "never")


def write_corpus(path: Path, transcripts: int, utterances: int, annotators: int, seed: int = 3) -> int:
    """A CSV corpus: alternating client and listener utterances (sometimes two listener rows in a row), every
    utterance once per annotator, the second annotator agreeing most of the time; rows shuffled."""
    rng = random.Random(seed)
    rows = []
    for t in range(transcripts):
        for u in range(1, utterances + 1):
            listener = u % 2 == 0 or rng.random() < 0.05
            text = " ".join(rng.choices(WORDS, k=rng.randint(6, 30))).capitalize() + "."
            truth, level = rng.randrange(len(LABELS)), rng.randint(1, 5)
            for a in range(annotators):
                if not listener:
                    rows.append([f"conv {t:05d}", u, "client", text, f"coder{a}", "", "", "", "", ""])
                    continue
                label = truth if a == 0 or rng.random() < 0.8 else rng.randrange(len(LABELS))
                rows.append([f"conv {t:05d}", u, "therapist", text, f"coder{a}", *LABELS[label],
                             level if a == 0 or rng.random() < 0.7 else max(1, min(5, level + rng.choice((-1, 1))))])
    rng.shuffle(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows)


def run(corpus: Path, mapping: Path, course: Path):
    if course.exists():
        shutil.rmtree(course)
    course.mkdir()
    return import_corpus(corpus, course_root=course, mapping_path=mapping, key_annotator="coder0",
                         columns=CorpusColumns("conversation", "utterance_no", "role", "text", "annotator"),
                         listener=["therapist"], client=["client"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=int, default=2_000)
    parser.add_argument("--utterances", type=int, default=50)
    parser.add_argument("--annotators", type=int, default=2)
    parser.add_argument("--no-trace", action="store_true", help="skip the second, tracemalloc-traced import")
    parser.add_argument("--keep", type=Path, help="keep the corpus and the course folder here")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="attune-import-bench-")) if args.keep is None else args.keep
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        corpus, mapping = scratch / "corpus.csv", scratch / "mapping.yaml"
        mapping.write_text(MAPPING, encoding="utf-8")
        t0 = time.perf_counter()
        rows = write_corpus(corpus, args.transcripts, args.utterances, args.annotators)
        t1 = time.perf_counter()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report = run(corpus, mapping, scratch / "course")
        t2 = time.perf_counter()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
        print(f"corpus: {args.transcripts:,} transcripts x {args.utterances} utterances x {args.annotators} "
              f"annotators = {rows:,} rows, {corpus.stat().st_size / 2**20:.1f} MiB")
        print(f"write the synthetic corpus (not part of the goal): {t1 - t0:6.2f} s")
        print(f"import (read, map, validate, write {len(report.written):,} files): {t2 - t1:6.2f} s   (goal: <= 10 s)")
        print(f"  {report.transcripts:,} transcripts, {report.turns:,} turns, {report.utterances:,} utterances, "
              f"{report.coded:,} coded, {report.uncovered} uncovered, {report.conflicts:,} conflicts, "
              f"{len(report.problems):,} problems")
        print(f"peak memory of this process (ru_maxrss): {rss_after:,.0f} MiB   (goal: <= 1024 MiB); "
              f"{rss_before:,.0f} MiB before the import")
        if not args.no_trace:
            # A second, traced import for memory alone (tracing slows it down): what the import allocates.
            tracemalloc.start()
            run(corpus, mapping, scratch / "course")
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"  allocated by the import at its peak (tracemalloc): {traced_peak / 2**20:,.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
