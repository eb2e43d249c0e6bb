"""The learner's practice history: every answered practice item, in a small SQLite database of their own.

Nothing a learner did may be lost, so:

- each attempt is written in its own transaction the moment it is answered (WAL journal, ``synchronous=FULL``): a
  kernel killed right after an answer keeps that answer, and never leaves half a row;
- the caller names each attempt with a uuid, so recording it again (a re-run cell, a retried write) never makes a
  second row;
- several kernels (two notebooks open at once) may write the same file: writers wait their turn (busy timeout)
  instead of failing, and each attempt gets the next number in one global order;
- a file that is not ours, or is from a newer Attune, is never recreated or overwritten: the error says what to do;
- items are keyed by the bank's stable ids, and rows of items that left the bank are kept;
- starting over (``reset``) first archives the old database beside it.

The database lives in the Jupyter user data folder (``jupyter --data-dir``)/attune/practice.sqlite3, or where
``$ATTUNE_PRACTICE_DB`` says. Standard library only (plus jupyter_core for that folder): no ORM.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from course.errors import AttuneError

SCHEMA_VERSION = 1  # bump with a migration in _migrate() when the tables change
ENV_VARIABLE = "ATTUNE_PRACTICE_DB"
FILE_NAME = "practice.sqlite3"
BUSY_TIMEOUT_MS = 10_000  # another kernel's write takes milliseconds; waiting beats failing an answer
_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file
CSV_COLUMNS = ("seq", "attempt_id", "answered_at", "session_id", "item_id", "kind", "correct", "main_given",
               "main_expected", "given", "expected")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    attempt_id    TEXT PRIMARY KEY,
    item_id       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    given         TEXT NOT NULL,
    expected      TEXT NOT NULL,
    correct       INTEGER NOT NULL CHECK (correct IN (0, 1)),
    main_given    TEXT NOT NULL,
    main_expected TEXT NOT NULL,
    answered_at   TEXT NOT NULL,
    session_id    TEXT NOT NULL,
    seq           INTEGER NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS attempts_item ON attempts (item_id);
CREATE TABLE IF NOT EXISTS sessions (
    session_id    TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    planned_items INTEGER NOT NULL,
    notebook      TEXT NOT NULL
);
"""


class PracticeStoreError(AttuneError):
    """The practice database cannot be used as it is; the message names the file and what to do."""


def utc_now() -> str:
    """Now, as ISO-8601 in UTC (sorts as text in time order)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class AttemptRecord:
    """One answered practice item. ``given``/``expected`` are plain JSON-able dicts (the learner's answer and the
    reference); ``main_given``/``main_expected`` their headline values (a code, a letter, a decision) for quick
    reading; ``seq`` is the global answer order, set by the store (ignored by ``record``)."""

    attempt_id: str
    item_id: str
    kind: str
    given: dict[str, Any]
    expected: dict[str, Any]
    correct: bool
    main_given: str = ""
    main_expected: str = ""
    answered_at: str = field(default_factory=utc_now)
    session_id: str = ""
    seq: int | None = None

    @classmethod
    def new(cls, item_id: str, kind: str, given: dict[str, Any], expected: dict[str, Any], correct: bool,
            **fields: Any) -> AttemptRecord:
        """An attempt answered now, with a fresh attempt_id (keep it: recording it again is then harmless)."""
        return cls(new_id(), item_id, kind, given, expected, correct, **fields)


def default_store_path() -> Path:
    """$ATTUNE_PRACTICE_DB if set, else <Jupyter user data folder>/attune/practice.sqlite3 (that folder follows
    $JUPYTER_DATA_DIR, so a test or a browser test can point it at a scratch folder)."""
    chosen = os.environ.get(ENV_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    from jupyter_core.paths import jupyter_data_dir  # only here: importing the store stays cheap

    return Path(jupyter_data_dir()) / "attune" / FILE_NAME


def _locked(method: Any) -> Any:
    """Run a store method under the store's lock (one thread at a time on its connection)."""
    import functools

    @functools.wraps(method)
    def wrapped(self: PracticeStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapped


class PracticeStore:
    """The practice history in one SQLite file; see the module docstring. Use as a context manager, or close()."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self._lock = threading.RLock()
        self._check_is_ours_before_opening()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every transaction's extent is explicit.
            # A kernel runs a widget's button handlers on another thread than its cells: one connection serves
            # both, with every use under self._lock (see _locked), so transactions never interleave.
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)
        except (OSError, sqlite3.Error) as error:
            raise self._cannot_write(error) from error
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    # -- opening ----------------------------------------------------------------------------------------------------
    def _check_is_ours_before_opening(self) -> None:
        """Refuse, before SQLite touches it, a path that is a folder or a file that is not an SQLite database."""
        if self.path.is_dir():
            raise PracticeStoreError(f"{self.path}: the practice history should be a file, but this is a folder. "
                                     f"Move it aside, or set {ENV_VARIABLE} to another file.")
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return  # new (or created empty): SQLite makes it a database
        with self.path.open("rb") as handle:
            header = handle.read(len(_HEADER))
        if header != _HEADER:
            raise self._not_ours("it is not an SQLite database")

    def _not_ours(self, why: str) -> PracticeStoreError:
        return PracticeStoreError(
            f"{self.path}: cannot open the practice history: {why}. It was left as it is. Move it aside (rename "
            f"it) to start a new history there, or set {ENV_VARIABLE} to another file.")

    def _cannot_write(self, error: BaseException) -> PracticeStoreError:
        return PracticeStoreError(
            f"{self.path}: cannot open the practice history ({error}). Check that you may write this file and its "
            f"folder, and that no other program holds it locked; or set {ENV_VARIABLE} to a file you may write.")

    def _open(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            # Read-only first: nothing is written to a file until we know it is empty or ours.
            self._check_version(self._tables())
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                # WAL: readers never block the writer, and a commit is one append (no half-written pages).
                conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk before record() returns, so an answer survives a power cut too. Answers
            # come at human speed, so one fsync per answer costs nothing anyone notices.
            conn.execute("PRAGMA synchronous = FULL")
            with self._write():
                # Checked again under the write lock: another kernel may have created the tables meanwhile.
                tables = self._tables()
                self._check_version(tables)
                if "schema_version" not in tables:
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        conn.execute(statement)  # executescript() would COMMIT first: one by one instead
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
        except sqlite3.OperationalError as error:  # read-only, locked for longer than the busy timeout, ...
            raise self._cannot_write(error) from error
        except sqlite3.DatabaseError as error:  # e.g. a damaged file with a valid header
            raise self._not_ours(f"SQLite says: {error}") from error

    def _tables(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _check_version(self, tables: set[str]) -> None:
        """An empty database is made ours; one with our version table is checked; anything else is refused."""
        if not tables:
            return
        if "schema_version" not in tables:
            raise self._not_ours("it is an SQLite database of something else (it has no Attune schema_version "
                                 f"table; it has {', '.join(sorted(tables))})")
        row = self._conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if not isinstance(version, int):
            raise self._not_ours("its schema_version table holds no version")
        if version > SCHEMA_VERSION:
            raise PracticeStoreError(
                f"{self.path}: this practice history was written by a newer Attune (schema version {version}; "
                f"this one reads up to {SCHEMA_VERSION}). It was left as it is. Update Attune "
                f"to use it (ask whoever set up your course), or set {ENV_VARIABLE} to another file.")
        # version < SCHEMA_VERSION: migrations go here when there is a version 2.

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. IMMEDIATE takes the write lock at BEGIN, so a read-then-write (the next seq) can
        never be overtaken by another kernel; the busy timeout makes the others wait their turn."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:  # also after a failed COMMIT (disk full): the next BEGIN must work
                self._conn.execute("ROLLBACK")
            raise

    # -- writing ----------------------------------------------------------------------------------------------------
    @_locked
    def record(self, attempt: AttemptRecord) -> bool:
        """Store one attempt (its ``seq`` is assigned here). True if it is new; False if this attempt_id was
        recorded before (nothing changes then)."""
        # Serialised before the transaction: a value that is not plain data fails without holding the lock.
        given = json.dumps(attempt.given, ensure_ascii=False, sort_keys=True)
        expected = json.dumps(attempt.expected, ensure_ascii=False, sort_keys=True)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO attempts (attempt_id, item_id, kind, given, expected, correct, main_given, "
                "main_expected, answered_at, session_id, seq) "
                "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(MAX(seq), 0) + 1 FROM attempts",
                (attempt.attempt_id, attempt.item_id, attempt.kind, given, expected, int(bool(attempt.correct)),
                 str(attempt.main_given), str(attempt.main_expected), attempt.answered_at, attempt.session_id))
            return cursor.rowcount == 1

    @_locked
    def start_session(self, planned_items: int, notebook: str = "") -> str:
        """Note the start of a practice session (how many items were planned, in which notebook); its id."""
        session_id = new_id()
        with self._write() as conn:
            conn.execute("INSERT INTO sessions (session_id, started_at, planned_items, notebook) VALUES (?, ?, ?, ?)",
                         (session_id, utc_now(), int(planned_items), notebook))
        return session_id

    @_locked
    def reset(self, archive: bool = True) -> Path | None:
        """Start over: empty the attempts and sessions. With ``archive`` (the default) the database is first copied
        beside it (practice-<UTC time>.sqlite3) and only what that copy holds is removed, so an answer another
        kernel records meanwhile is kept, never lost. Returns the archive's path (None without archive)."""
        if not archive:
            with self._write() as conn:
                conn.execute("DELETE FROM attempts")
                conn.execute("DELETE FROM sessions")
            return None
        target = self._archive_path()
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(handle)
        try:
            copy = sqlite3.connect(temp)
            try:
                self._conn.backup(copy)  # a consistent snapshot, including what is still in the WAL
                last_seq = copy.execute("SELECT COALESCE(MAX(seq), 0) FROM attempts").fetchone()[0]
                sessions = [row[0] for row in copy.execute("SELECT session_id FROM sessions")]
            finally:
                copy.close()
            os.replace(temp, target)  # the archive appears whole or not at all
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        with self._write() as conn:
            # seq only grows while rows exist, so everything archived has seq <= last_seq, and nothing newer does.
            conn.execute("DELETE FROM attempts WHERE seq <= ?", (last_seq,))
            conn.executemany("DELETE FROM sessions WHERE session_id = ?", [(s,) for s in sessions])
        return target

    def _archive_path(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        stem, suffix = self.path.stem, self.path.suffix or ".sqlite3"
        candidate = self.path.with_name(f"{stem}-{stamp}{suffix}")
        number = 1
        while candidate.exists():  # two resets in one second: never overwrite an archive
            number += 1
            candidate = self.path.with_name(f"{stem}-{stamp}-{number}{suffix}")
        return candidate

    # -- reading ----------------------------------------------------------------------------------------------------
    @_locked
    def history(self) -> list[AttemptRecord]:
        """Every attempt, in answer order."""
        rows = self._conn.execute(
            "SELECT attempt_id, item_id, kind, given, expected, correct, main_given, main_expected, answered_at, "
            "session_id, seq FROM attempts ORDER BY seq")
        return [AttemptRecord(attempt_id, item_id, kind, json.loads(given), json.loads(expected), bool(correct),
                              main_given, main_expected, answered_at, session_id, seq)
                for (attempt_id, item_id, kind, given, expected, correct, main_given, main_expected, answered_at,
                     session_id, seq) in rows]

    @_locked
    def export_csv(self, path: Path | str) -> int:
        """The learner's own history as CSV (a header, then one row per attempt in answer order; given/expected as
        JSON), written atomically; the number of rows written."""
        path = Path(path)
        attempts = self.history()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(CSV_COLUMNS)
                for a in attempts:
                    writer.writerow([a.seq, a.attempt_id, a.answered_at, a.session_id, a.item_id, a.kind,
                                     int(a.correct), a.main_given, a.main_expected,
                                     json.dumps(a.given, ensure_ascii=False, sort_keys=True),
                                     json.dumps(a.expected, ensure_ascii=False, sort_keys=True)])
            os.chmod(temp, 0o644)  # mkstemp's files are private; an export is meant to be shared
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return len(attempts)

    @_locked
    def summary(self, tiers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Plain counts, for a learner who chooses to show an instructor their practice: no item text, no answers.
        ``tiers`` (item id -> tier, from the bank) adds counts per tier; items it does not know count as
        "unknown" (e.g. items that left the bank)."""
        conn = self._conn
        attempts, correct, items, first, last = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(correct), 0), COUNT(DISTINCT item_id), MIN(answered_at), MAX(answered_at) "
            "FROM attempts").fetchone()
        by_kind = {kind: {"attempts": n, "correct": c} for kind, n, c in conn.execute(
            "SELECT kind, COUNT(*), SUM(correct) FROM attempts GROUP BY kind ORDER BY kind")}
        result: dict[str, Any] = {
            "attempts": attempts, "correct": correct, "items": items,
            "sessions": conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0],
            "first_answered_at": first, "last_answered_at": last, "by_kind": by_kind}
        if tiers is not None:
            by_tier: dict[str, dict[str, int]] = {}
            for item_id, n, c in conn.execute("SELECT item_id, COUNT(*), SUM(correct) FROM attempts GROUP BY item_id"):
                counts = by_tier.setdefault(str(tiers.get(item_id, "unknown")), {"attempts": 0, "correct": 0})
                counts["attempts"] += n
                counts["correct"] += c
            result["by_tier"] = dict(sorted(by_tier.items()))
        return result

    # -- lifetime ---------------------------------------------------------------------------------------------------
    @_locked
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> PracticeStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
