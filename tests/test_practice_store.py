"""The practice history (course/practice_store.py): nothing a learner answered is lost, duplicated or overwritten,
also with several kernels writing at once and a kernel killed mid-practice."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from course.errors import AttuneError
from course.practice_store import (
    CSV_COLUMNS,
    SCHEMA_VERSION,
    AttemptRecord,
    PracticeStore,
    PracticeStoreError,
    default_store_path,
)


def attempt(n: int, item: str = "cd-sr-001", kind: str = "code", session: str = "", correct: bool = True,
            **fields) -> AttemptRecord:
    fields = {"main_given": "SR", "main_expected": "SR", "answered_at": f"2026-01-01T00:00:{n % 60:02d}+00:00",
              "session_id": session, **fields}
    return AttemptRecord(f"attempt-{n:04d}", item, kind, {"code": "SR", "empathy": 4, "note": "é"},
                         {"code": "SR", "empathy": 5}, correct, **fields)


def rows(path: Path, sql: str = "SELECT attempt_id FROM attempts ORDER BY seq") -> list[tuple]:
    with sqlite3.connect(path) as conn:  # a plain connection: what is really in the file
        return conn.execute(sql).fetchall()


def integrity(path: Path) -> str:
    return rows(path, "PRAGMA integrity_check")[0][0]


# -- where the history lives ----------------------------------------------------------------------------------------
def test_the_default_path_follows_the_jupyter_data_folder_and_the_override(tmp_path, monkeypatch):
    monkeypatch.delenv("ATTUNE_PRACTICE_DB", raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))
    assert default_store_path() == tmp_path / "jupyter-data" / "attune" / "practice.sqlite3"
    with PracticeStore() as store:  # the folder is made on first use
        assert store.path.parent.is_dir() and store.history() == []
    monkeypatch.setenv("ATTUNE_PRACTICE_DB", str(tmp_path / "elsewhere" / "mine.sqlite3"))
    assert default_store_path() == tmp_path / "elsewhere" / "mine.sqlite3"


# -- one kernel -----------------------------------------------------------------------------------------------------
def test_round_trip_in_answer_order(tmp_path):
    path = tmp_path / "practice.sqlite3"
    with PracticeStore(path) as store:
        session = store.start_session(planned_items=3, notebook="practice/coding.ipynb")
        recorded = [attempt(n, item=f"cd-sr-{n:03d}", session=session, correct=n % 2 == 0) for n in (3, 1, 2)]
        assert all(store.record(a) for a in recorded)
    with PracticeStore(path) as store:  # read back by a new kernel
        history = store.history()
    assert [a.attempt_id for a in history] == ["attempt-0003", "attempt-0001", "attempt-0002"]  # answered, not id
    assert [a.seq for a in history] == [1, 2, 3]
    assert history[0] == AttemptRecord(**{**recorded[0].__dict__, "seq": 1})  # every field, dicts as dicts
    assert history[1].correct is False and history[0].given["note"] == "é"
    assert rows(path, "SELECT session_id, planned_items, notebook FROM sessions") == [
        (session, 3, "practice/coding.ipynb")]
    assert rows(path, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]


def test_recording_the_same_attempt_again_keeps_one_row(tmp_path):
    with PracticeStore(tmp_path / "p.sqlite3") as store:
        first = attempt(1)
        assert store.record(first) is True
        assert store.record(first) is False  # a re-run cell, a retried write
        assert store.record(AttemptRecord(**{**first.__dict__, "correct": False})) is False  # the first one stands
        assert store.record(attempt(2)) is True
        assert [(a.attempt_id, a.correct, a.seq) for a in store.history()] == [
            ("attempt-0001", True, 1), ("attempt-0002", True, 2)]


def test_new_attempts_get_fresh_ids_and_the_time_in_utc():
    one = AttemptRecord.new("fc-x-001", "feeling-concern", {"feeling": "afraid"}, {"feeling": "afraid"}, True)
    two = AttemptRecord.new("fc-x-001", "feeling-concern", {"feeling": "afraid"}, {"feeling": "afraid"}, True)
    assert one.attempt_id != two.attempt_id and one.answered_at.endswith("+00:00")


def test_export_csv_is_the_learners_own_history(tmp_path):
    with PracticeStore(tmp_path / "p.sqlite3") as store:
        assert store.export_csv(tmp_path / "empty.csv") == 0
        store.record(attempt(1, item="br-a-001", kind="best-response", correct=False))
        store.record(attempt(2, item="rf-b-002", kind="refer", main_given="urgent, today"))
        assert store.export_csv(tmp_path / "out" / "history.csv") == 2
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8").splitlines() == [",".join(CSV_COLUMNS)]
    with (tmp_path / "out" / "history.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["seq"], r["attempt_id"], r["item_id"], r["kind"], r["correct"]) for r in table] == [
        ("1", "attempt-0001", "br-a-001", "best-response", "0"), ("2", "attempt-0002", "rf-b-002", "refer", "1")]
    assert table[1]["main_given"] == "urgent, today"  # quoted, not split
    assert json.loads(table[0]["given"]) == {"code": "SR", "empathy": 4, "note": "é"}
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_summary_is_counts_only(tmp_path):
    with PracticeStore(tmp_path / "p.sqlite3") as store:
        store.start_session(2)
        store.record(attempt(1, item="cd-a-001", correct=True))
        store.record(attempt(2, item="cd-a-001", correct=False))
        store.record(attempt(3, item="br-a-001", kind="best-response", correct=True))
        store.record(attempt(4, item="gone-from-bank", kind="refer", correct=False))
        summary = store.summary(tiers={"cd-a-001": "foundation", "br-a-001": "core"})
    assert summary["attempts"] == 4 and summary["correct"] == 2 and summary["items"] == 3
    assert summary["sessions"] == 1
    assert summary["by_kind"] == {"best-response": {"attempts": 1, "correct": 1},
                                  "code": {"attempts": 2, "correct": 1}, "refer": {"attempts": 1, "correct": 0}}
    assert summary["by_tier"] == {"core": {"attempts": 1, "correct": 1}, "foundation": {"attempts": 2, "correct": 1},
                                  "unknown": {"attempts": 1, "correct": 0}}
    assert "SR" not in json.dumps(summary)  # no answers, no references


def test_reset_archives_the_old_history_first(tmp_path):
    path = tmp_path / "p.sqlite3"
    with PracticeStore(path) as store:
        store.start_session(5)
        for n in range(1, 6):
            store.record(attempt(n))
        archive = store.reset()
        assert archive is not None and archive.parent == tmp_path and archive != path
        assert store.history() == [] and store.summary()["sessions"] == 0
        assert store.record(attempt(6)) is True  # the store goes on working
        assert store.reset(archive=False) is None and store.history() == []
    with PracticeStore(archive) as old, PracticeStore(path) as new:  # both open fine
        assert [a.attempt_id for a in old.history()] == [f"attempt-{n:04d}" for n in range(1, 6)]
        assert old.summary()["sessions"] == 1 and new.history() == []
    assert integrity(archive) == "ok" and integrity(path) == "ok"
    assert not list(tmp_path.glob(".*.tmp"))


def test_reset_keeps_an_answer_another_kernel_records_meanwhile(tmp_path, monkeypatch):
    from course import practice_store

    path = tmp_path / "p.sqlite3"
    real_replace = os.replace

    def answer_then_replace(source, target):  # runs after the archive copy, before the old rows are removed
        with PracticeStore(path) as other_kernel:
            other_kernel.record(attempt(99))
        real_replace(source, target)

    with PracticeStore(path) as store:
        store.record(attempt(1))
        monkeypatch.setattr(practice_store.os, "replace", answer_then_replace)
        archive = store.reset()
        monkeypatch.undo()
        assert [a.attempt_id for a in store.history()] == ["attempt-0099"]  # not in the archive: kept
    assert rows(archive) == [("attempt-0001",)]


# -- files that are not ours ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("content", [b"attempt,item\n1,cd-sr-001\n", b"SQLite", b"\x00" * 4096])
def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "practice.sqlite3"
    path.write_bytes(content)
    with pytest.raises(AttuneError) as raised:
        PracticeStore(path)
    message = str(raised.value)
    assert str(path) in message and "not an SQLite database" in message and "Move it aside" in message
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["practice.sqlite3"]  # no -wal, no -journal, no copy


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "practice.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    with pytest.raises(PracticeStoreError, match="something else"):
        PracticeStore(path)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "practice.sqlite3"
    PracticeStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    before = path.read_bytes()
    with pytest.raises(PracticeStoreError) as raised:
        PracticeStore(path)
    assert str(path) in str(raised.value) and "newer Attune" in str(raised.value)
    assert "Update Attune" in str(raised.value)
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_that_cannot_be_written_is_named(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PracticeStoreError, match="cannot open the practice history") as raised:
            PracticeStore(folder / "practice.sqlite3")
        assert str(folder / "practice.sqlite3") in str(raised.value)
    finally:
        folder.chmod(0o700)


def test_a_file_where_its_folder_should_be_is_named(tmp_path):
    (tmp_path / "attune").write_text("not a folder")
    with pytest.raises(PracticeStoreError, match="cannot open the practice history"):
        PracticeStore(tmp_path / "attune" / "practice.sqlite3")
    assert (tmp_path / "attune").read_text() == "not a folder"


def test_a_folder_in_its_place_is_refused(tmp_path):
    (tmp_path / "practice.sqlite3").mkdir()
    with pytest.raises(PracticeStoreError, match="folder"):
        PracticeStore(tmp_path / "practice.sqlite3")


# -- several kernels, and a killed one ------------------------------------------------------------------------------
# A kernel of its own: records COUNT attempts (or forever if COUNT is 0) into PATH, printing each attempt_id once it
# is committed. It waits for a line on stdin first, so that all writers start together.
WORKER = """
import sys
from course.practice_store import AttemptRecord, PracticeStore
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
with PracticeStore(path) as store:
    n = 0
    while not count or n < count:
        n += 1
        attempt_id = f"{name}-{n:05d}"
        store.record(AttemptRecord(attempt_id, f"cd-sr-{n % 40:03d}", "code", {"code": "SR", "n": n},
                                   {"code": "SR"}, n % 3 == 0, "SR", "SR", session_id=name))
        print(attempt_id, flush=True)
"""


def start_worker(path: Path, name: str, count: int) -> subprocess.Popen:
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(path), name, str(count)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert worker.stdout.readline() == "ready\n", worker.stderr.read()
    return worker


def check_rows(path: Path) -> list[str]:
    """The attempt ids in the file, after checking every row is whole and the order has no gaps or repeats."""
    found = rows(path, "SELECT attempt_id, item_id, kind, given, expected, correct, answered_at, seq FROM attempts "
                       "ORDER BY seq")
    assert [r[-1] for r in found] == list(range(1, len(found) + 1))
    for row in found:
        assert all(value is not None for value in row), row
        assert json.loads(row[3])["n"] == int(row[0].rsplit("-", 1)[1]) and json.loads(row[4]) == {"code": "SR"}
    assert integrity(path) == "ok"
    return [r[0] for r in found]


@pytest.mark.timeout(120)
def test_kernels_answering_at_once_lose_and_duplicate_nothing(tmp_path):
    path = tmp_path / "shared" / "practice.sqlite3"  # not there yet: the writers also race to create it
    names, count = [f"kernel{k}" for k in range(4)], 300
    workers = [start_worker(path, name, count) for name in names]
    for worker in workers:  # go
        worker.stdin.write("\n")
        worker.stdin.flush()
    printed = []
    for worker in workers:
        out, err = worker.communicate(timeout=90)
        assert worker.returncode == 0, err
        printed += out.split()
    ids = check_rows(path)
    expected = {f"{name}-{n:05d}" for name in names for n in range(1, count + 1)}
    assert len(ids) == len(set(ids)) == len(names) * count
    assert set(ids) == set(printed) == expected
    for name in names:  # each kernel's answers keep their own order within the global one
        mine = [i for i in ids if i.startswith(name + "-")]
        assert mine == sorted(mine)


@pytest.mark.timeout(60)
def test_a_killed_kernel_loses_nothing_it_committed(tmp_path):
    path = tmp_path / "practice.sqlite3"
    worker = start_worker(path, "killed", 0)
    worker.stdin.write("\n")
    worker.stdin.flush()
    printed = []
    deadline = time.monotonic() + 30
    while len(printed) < 50 and time.monotonic() < deadline:
        printed.append(worker.stdout.readline().strip())
    worker.send_signal(signal.SIGKILL)  # mid-loop, most likely mid-transaction
    out, _ = worker.communicate(timeout=10)
    printed += out.split()  # what it printed before dying is committed too
    assert worker.returncode == -signal.SIGKILL and len(printed) >= 50 and all(printed)
    ids = check_rows(path)  # every row whole, integrity ok
    assert set(printed) <= set(ids)  # nothing committed is lost
    assert len(set(ids) - set(printed)) <= 1  # at most the one committed but not yet printed
    with PracticeStore(path) as store:  # and the learner goes on
        assert store.record(attempt(9999)) is True
        assert store.history()[-1].attempt_id == "attempt-9999" and store.history()[-1].seq == len(ids) + 1
    assert integrity(path) == "ok"


def test_a_widget_handler_thread_uses_the_store_of_the_cell_thread(tmp_path):
    """ipykernel runs a button's handler on another thread than the cell that made the widget and its store."""
    import threading

    store = PracticeStore(tmp_path / "practice.sqlite3")
    failures = []

    def answer(n: int) -> None:
        try:
            for i in range(50):
                store.record(AttemptRecord.new(f"cd-t-{n}-{i}", "code", {"code": "SR"}, {"code": "SR"}, True))
        except Exception as err:  # collected: an exception in a thread would not fail the test by itself
            failures.append(err)

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    history = store.history()
    assert len(history) == 200 and [r.seq for r in history] == list(range(1, 201))
    store.close()
