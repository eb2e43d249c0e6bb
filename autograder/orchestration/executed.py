"""`attune grade` (executed, the default): plain ``nbgrader autograde``, sharded over local processes
(``--workers``) or a Dask cluster (``--scheduler``). The course's nbgrader configuration adds Attune's steps, so
the score recorded for a rubric part is still the static one, with the executed score kept beside it. Finished
submissions are skipped, so a killed run is completed by running it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.adapters.config import CourseConfig
from autograder.adapters.gradebook import register_students
from autograder.orchestration.submissions import read_submitted, read_timestamp
from autograder.static.notebooks import RECORDED_LOG, recorded


def is_complete(course: CourseConfig, assignment: str, student: str, notebooks: Iterable[str], how: str) -> bool:
    """Whether a submission's grading finished: every autograded notebook exists, parses, and carries Attune's
    record, which is written in the last step of grading (a run killed half-way leaves no record), and the
    submission is not newer than what was graded (a resubmission is graded again, as nbgrader autograde does)."""
    folder = course.autograded_dir(student, assignment)
    for name in notebooks:
        nb, _ = read_submitted(folder / f"{name}.ipynb")
        entry = recorded(nb) if nb is not None else None
        if entry is None or entry["graded"] != how:
            return False
    try:
        submitted, graded = read_timestamp(course.submitted_dir(student, assignment)), read_timestamp(folder)
    except (ValueError, OverflowError):  # an unreadable timestamp: nbgrader fails that submission, so grade it
        return False
    return submitted is None or graded is None or submitted <= graded


@dataclass(frozen=True)
class Shard:
    """One `nbgrader autograde` run: the real command line, limited to some trainees by excluding the rest."""

    students: tuple[str, ...]
    command: tuple[str, ...]
    cwd: str
    log: str


def shard_commands(course: CourseConfig, assignment: str, pending: list[str], everyone: list[str], shards: int,
                   db_url: str | None, log_dir: Path) -> list[Shard]:
    """Split the pending trainees into at most ``shards`` runs of nbgrader autograde (round robin)."""
    groups = [pending[i::shards] for i in range(shards)]
    found = []
    for number, group in enumerate(g for g in groups if g):
        others = sorted(set(everyone) - set(group))
        command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"]
        if others:  # nbgrader takes a glob of ids to include, or a comma-separated list of ids to exclude
            command.append(f"--CourseDirectory.student_id_exclude={','.join(others)}")
        if db_url:
            command.append(f"--db={db_url}")
        # The course id as this run resolved it (the config's, or --course-id), so nbgrader grades the same course.
        command.append(f"--CourseDirectory.course_id={course.course_id}")
        found.append(Shard(tuple(group), tuple(command), str(course.root),
                           str(log_dir / f"{assignment}-shard-{number + 1:03d}.log")))
    return found


_RUNNING: set[subprocess.Popen] = set()  # this process's shard runs, stopped if it is told to stop


def run_shard(shard: Shard, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run one shard to the end (locally, or on a Dask worker that sees the same course folder)."""
    Path(shard.log).parent.mkdir(parents=True, exist_ok=True)
    environment = dict(env or os.environ)
    environment["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environment.get("PATH", "")])
    with open(shard.log, "w", encoding="utf-8") as log:
        process = subprocess.Popen(list(shard.command), cwd=shard.cwd, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT)
        _RUNNING.add(process)
        try:
            code = process.wait()
        finally:
            _RUNNING.discard(process)
    return code, shard.log


def _stop_shards() -> None:
    """Stop the running shards (their kernels exit with them): a stopped `attune grade` leaves nothing running
    that a second run would race with."""
    for process in list(_RUNNING):
        process.terminate()
    for process in list(_RUNNING):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class ExecutedSummary:
    students: int = 0
    already_done: int = 0
    shards: int = 0
    seconds: float = 0.0
    failed_shards: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"Autograded {self.students - self.already_done} of {self.students} submission(s) in {self.shards} "
                 f"nbgrader run(s), {self.seconds:.1f} s ({self.already_done} were already graded)."]
        if self.failed_shards:
            lines.append("nbgrader reported errors; see the logs: " + ", ".join(self.failed_shards))
        if self.incomplete:
            lines.append(f"{len(self.incomplete)} submission(s) are not graded; run the same command again to "
                         "finish them: " + ", ".join(self.incomplete))
        return lines


def grade_executed(course: CourseConfig, assignment: str, workers: int = 1, scheduler: str | None = None,
                   force: bool = False, progress: bool = True, db_override: str | None = None) -> ExecutedSummary:
    """Run `nbgrader autograde` over every pending submission, in ``workers`` local processes or as tasks on a
    Dask cluster. Finished submissions are skipped, so a killed run is completed by running it again."""
    start = time.perf_counter()
    refuse_without_sandbox(course)
    everyone = course.students(assignment)
    notebooks = register_students(course, assignment, everyone)
    pending = [s for s in everyone if force or not is_complete(course, assignment, s, notebooks, "executed")]
    summary = ExecutedSummary(students=len(everyone), already_done=len(everyone) - len(pending))
    log_dir = course.root / "grading-logs"
    total = len(pending) * len(notebooks)
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            slots = max(1, sum(client.nthreads().values()))
            # Small shards balance the cluster; each one pays nbgrader's start-up (~3 s), so not too small.
            count = max(1, min(slots * 4, -(-len(pending) // 5)))
            shards = shard_commands(course, assignment, pending, everyone, count, db_override, log_dir)
            futures = client.map(run_shard, shards, pure=False)
            results = _follow(futures, shards, total, f"autograde {assignment}", progress)
    else:
        shards = shard_commands(course, assignment, pending, everyone, max(1, workers), db_override, log_dir)
        previous = _on_sigterm_exit()
        try:
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                futures = [pool.submit(run_shard, shard) for shard in shards]
                results = _follow(futures, shards, total, f"autograde {assignment}", progress)
        except BaseException:  # Ctrl+C, SIGTERM from a job scheduler: stop the shards before leaving
            _stop_shards()
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    summary.failed_shards = [log for code, log in results if code]
    summary.shards = len(shards)
    summary.incomplete = [s for s in pending if not is_complete(course, assignment, s, notebooks, "executed")]
    summary.seconds = time.perf_counter() - start
    return summary


def refuse_without_sandbox(course: CourseConfig) -> None:
    """Stop before any shard starts if the sandbox cannot run here (each nbgrader run would stop anyway, once per
    shard, in its log): SandboxError saying why and what to do. A course that opted out is let through."""
    from autograder.adapters.sandbox import GradingSandbox, SandboxError

    refusal = GradingSandbox(**dict(course.sandbox)).refusal()
    if refusal:
        raise SandboxError(refusal)


def _on_sigterm_exit() -> Any:
    """Turn SIGTERM into SystemExit while shards run (so they are stopped); returns the handler it replaced."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, stop)


def _follow(futures: list, shards: list[Shard], total: int, label: str, progress: bool) -> list[tuple[int, str]]:
    """Wait for the shards, with a progress bar fed by the line Attune's last autograde step logs per notebook."""
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="notebook", disable=not progress) as bar:
        while not all(f.done() for f in futures):
            time.sleep(0.5)
            bar.update(max(0, _recorded_lines(shards) - bar.n))
        bar.update(max(0, _recorded_lines(shards) - bar.n))
    return [f.result() for f in futures]


def _recorded_lines(shards: list[Shard]) -> int:
    count = 0
    for shard in shards:
        try:
            with open(shard.log, encoding="utf-8", errors="replace") as log:
                count += sum(RECORDED_LOG in line for line in log)
        except OSError:
            continue
    return count
