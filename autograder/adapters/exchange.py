"""`nbgrader collect` that refuses submissions made in another trainee's name.

Any trainee can run `nbgrader submit ex01 --student=victim`. The folder that lands in the exchange's inbound/ is
then named `victim+ex01+<timestamp>+<random>`, but it belongs to the attacker's Unix user. Stock nbgrader collect
only logs "... owned by X; cheating attempt?" and then, if that folder is the newest, copies it over the victim's
real submission in submitted/ (nbgrader/exchange/default/collect.py, `copy_files`).

`OwnerCheckedCollect` is nbgrader's own collector with one rule added, enabled through nbgrader's extension point
for exchanges (`c.ExchangeFactory.collect` in nbgrader_config.py): an inbound folder counts as a trainee's
submission only if it is a real folder (not a symbolic link) owned by that trainee's Unix user, holding nothing
but plain files and folders of that same user (`content_problem`). Every other one
is refused: never collected, logged at ERROR level by name, recorded once in
`<course root>/refused/refused-submissions.jsonl`, and copied to `<course root>/refused/<assignment>/<folder>/`
as evidence (refused/ is the instructor's alone: mode 0700). Among the trainee's genuine submissions nbgrader's
own rule still picks the one collected (the latest; with `--before-duedate`, the latest before the due date if
there is one).

When `ExchangeCollect.check_owner` is False, or on Windows (no `pwd`), this collector is nbgrader's, unchanged.
Switch the check off where Unix owners do not tell trainees apart: on Kubernetes or Docker JupyterHubs every
user's server usually runs as the same uid 1000 (`jovyan`), so every folder has one owner, and the check would
refuse every submission. `attune demo` switches it off as well: it submits every simulated trainee as the one
Unix user that runs it.

Only the standard library, nbgrader and course.errors are imported here: nbgrader loads this module for every
collect. Configurations name the collector autograder.exchange.OwnerCheckedCollect (autograder/exchange.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nbgrader.exchange.default import ExchangeCollect

from course.errors import AttuneError

if sys.platform != "win32":
    import pwd
else:  # pragma: no cover - nbgrader's exchange does not run on Windows either
    pwd = None

REFUSED_DIR = "refused"
REFUSED_LOG = "refused-submissions.jsonl"
# One JSON object per line of the log, with these keys (and the columns of the report's table, in this order).
FIELDS = ("assignment", "claimed", "owner", "folder", "submitted", "refused_at", "kept", "reason")


class RefusalLogError(AttuneError, ValueError):
    """The log of refused submissions cannot be read; the message names the file and the line. An AttuneError, so
    `attune report` shows it as a message."""


@dataclass(frozen=True)
class Inbound:
    """One entry of the exchange's inbound/ folder for an assignment.

    ``claimed`` is the student id its name claims, ``owner`` the Unix user that owns it (None: a uid without a
    user), ``timestamp`` the submission time from its name (naive UTC, as nbgrader's parse_utc gives it), and
    ``is_folder`` is False for anything but a real folder (a symbolic link, a file), and ``problem`` says what in
    the folder is not the owner's own plain file (see `content_problem`), if anything.
    """

    folder: str
    claimed: str
    owner: str | None
    timestamp: datetime
    is_folder: bool = True
    problem: str | None = None

    @property
    def genuine(self) -> bool:
        return self.is_folder and self.problem is None and self.owner is not None and self.owner == self.claimed


@dataclass(frozen=True)
class Refusal:
    """An inbound entry refused, and the claimed trainee's own submission chosen instead (None: they have none)."""

    submission: Inbound
    kept: Inbound | None


def choose(submissions: Sequence[Inbound], duedate: datetime | None, before_duedate: bool) -> Inbound:
    """nbgrader's rule for the one submission of a trainee to collect: the latest; with ``before_duedate`` and a
    due date, the latest one on time if there is one, else the latest. ``submissions`` must not be empty."""
    latest_first = sorted(submissions, key=lambda s: s.timestamp, reverse=True)
    if duedate is not None and before_duedate:
        on_time = [s for s in latest_first if s.timestamp <= duedate]
        if on_time:
            return on_time[0]
    return latest_first[0]


def split_submissions(submissions: Iterable[Inbound], duedate: datetime | None = None,
                      before_duedate: bool = False) -> tuple[list[Inbound], list[Refusal]]:
    """Split inbound entries into the one genuine submission to collect per trainee and the refused ones.

    Pure. Entries are grouped by the student id they claim, in the order first seen (as nbgrader groups them). A
    trainee whose entries are all refused gets nothing collected. Refusals come oldest first per trainee.
    """
    claims: dict[str, list[Inbound]] = {}
    for submission in submissions:
        claims.setdefault(submission.claimed, []).append(submission)
    chosen: list[Inbound] = []
    refused: list[Refusal] = []
    for group in claims.values():
        genuine = [s for s in group if s.genuine]
        kept = choose(genuine, duedate, before_duedate) if genuine else None
        if kept is not None:
            chosen.append(kept)
        refused += [Refusal(s, kept) for s in sorted(group, key=lambda s: s.timestamp) if not s.genuine]
    return chosen, refused


def iso_utc(timestamp: datetime) -> str:
    """A naive UTC datetime (nbgrader's kind) as ISO 8601 with its offset."""
    return timestamp.replace(tzinfo=UTC).isoformat()


def refusal_reason(submission: Inbound) -> str:
    """Why a submission is refused, in a few words."""
    owner = submission.owner or "an unknown user (a uid with no Unix user)"
    if not submission.is_folder:
        return f"{submission.folder} is not a folder but a symbolic link or file made by {owner}"
    if submission.owner != submission.claimed:
        return f"its files belong to {owner} (impersonation)"
    return f"{submission.problem} (tampering: not all of it is {submission.claimed}'s own work)"


def refusal_record(refusal: Refusal, assignment: str, refused_at: datetime) -> dict[str, str | None]:
    """The line written to the log for one refusal (keys: FIELDS)."""
    submission = refusal.submission
    return {"assignment": assignment, "claimed": submission.claimed, "owner": submission.owner,
            "folder": submission.folder, "submitted": iso_utc(submission.timestamp),
            "refused_at": refused_at.astimezone(UTC).isoformat(timespec="seconds"),
            "kept": iso_utc(refusal.kept.timestamp) if refusal.kept else None,
            "reason": refusal_reason(submission)}


def refusal_message(refusal: Refusal, assignment: str) -> str:
    """What the instructor reads in collect's log for one refusal."""
    submission = refusal.submission
    kept = (f"Kept {submission.claimed}'s own submission of {iso_utc(refusal.kept.timestamp)}." if refusal.kept
            else f"Nothing collected for {submission.claimed} from inbound/ (a copy collected earlier stays in "
                 "submitted/).")
    return (f"Refused a submission of {assignment} claiming to be from {submission.claimed}: "
            f"{refusal_reason(submission)}. {kept}")


def refusals_log(course_root: str | os.PathLike[str]) -> Path:
    return Path(course_root) / REFUSED_DIR / REFUSED_LOG


def read_refusals(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record in the log (none if there is no log); RefusalLogError naming the file and line if one line is
    not a JSON object with the log's keys."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise RefusalLogError(f"{path}, line {number}: not valid JSON ({err.msg}, column {err.colno}); "
                                      "each line must be one JSON object") from None
            if not isinstance(record, dict):
                raise RefusalLogError(f"{path}, line {number}: a JSON {type(record).__name__}, not an object")
            missing = [key for key in FIELDS if key not in record]
            if missing:
                raise RefusalLogError(f"{path}, line {number}: the record has no {', '.join(missing)}")
            records.append(record)
    return records


def _unix_user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def content_problem(folder: str | os.PathLike[str], uid: int) -> str | None:
    """The first thing inside a submission folder that is not a plain file or folder of the user ``uid``, or None.

    nbgrader makes every submission folder world-writable, so anyone who learns a folder's name can replace the
    files in it; and its collect copies symbolic links as the files they point to (with the instructor's rights:
    a link to solutions/ or gradebook.db would come back in feedback). Either shows up here.
    """
    problems: list[str] = []

    def unreadable(err: OSError) -> None:
        problems.append(f"{os.path.relpath(err.filename, folder)} cannot be read")

    for directory, folders, files in os.walk(folder, onerror=unreadable):  # never follows links
        for name in sorted(folders + files):
            path = os.path.join(directory, name)
            status = os.lstat(path)
            relative = os.path.relpath(path, folder)
            if stat.S_ISLNK(status.st_mode):
                return f"{relative} is a symbolic link"
            if not (stat.S_ISDIR(status.st_mode) or stat.S_ISREG(status.st_mode)):
                return f"{relative} is not a plain file"
            if status.st_uid != uid:
                return f"{relative} belongs to {_unix_user(status.st_uid) or f'uid {status.st_uid}'}"
        if problems:
            return problems[0]
    return problems[0] if problems else None


def _not_plain(directory: str, names: list[str]) -> list[str]:
    """copytree's ignore: leave out anything but folders, files and symbolic links (a FIFO would block a copy)."""
    kept_kinds = (stat.S_ISDIR, stat.S_ISREG, stat.S_ISLNK)
    return [name for name in names
            if not any(kind(os.lstat(os.path.join(directory, name)).st_mode) for kind in kept_kinds)]


def copy_evidence(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> None:
    """Copy an inbound entry as it is, following no symbolic link: links are copied as links."""
    mode = os.lstat(src).st_mode
    if stat.S_ISLNK(mode):
        if os.path.lexists(dest):
            os.unlink(dest)
        os.symlink(os.readlink(src), dest)
    elif stat.S_ISDIR(mode):
        shutil.copytree(src, dest, symlinks=True, ignore=_not_plain, dirs_exist_ok=True)
    elif stat.S_ISREG(mode):
        shutil.copy2(src, dest)


class OwnerCheckedCollect(ExchangeCollect):
    """nbgrader's collector, refusing inbound folders that are not owned by the student they claim to be from
    (see the module's docstring). The chosen submissions are then collected by nbgrader's own code."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._inbound: list[Inbound] = []
        self._refusals: list[Refusal] = []

    def _checking(self) -> bool:
        return bool(self.check_owner) and pwd is not None

    def _path_to_record(self, path: str) -> dict[str, Any]:
        # nbgrader's init_src calls this once per inbound entry it globs; we note each entry's owner on the way.
        try:
            record = super()._path_to_record(path)
        except Exception as err:  # nbgrader's own ExchangeError, or the date parser's error
            if not self._checking():
                raise
            # Stock collect stops here for everyone: any trainee can make `x+ex01+junk` in inbound/.
            self.log.error("Skipped %s in inbound/: its name is not <student>+<assignment>+<time>+<random> (%s). "
                           "It is nobody's submission; remove it.", path, err)
            return {"username": "", "filename": os.path.basename(path), "timestamp": datetime.min}
        if self._checking():
            status = os.lstat(path)  # a link is judged as the link, never by what it points to
            is_folder = stat.S_ISDIR(status.st_mode)
            self._inbound.append(Inbound(record["filename"], record["username"], _unix_user(status.st_uid),
                                         record["timestamp"], is_folder,
                                         content_problem(path, status.st_uid) if is_folder else None))
        return record

    def init_src(self) -> None:
        self._inbound, self._refusals = [], []
        super().init_src()
        if not self._checking():
            return
        chosen, self._refusals = split_submissions(self._inbound, self.duedate, self.before_duedate)
        self.src_records = [{"username": s.claimed, "filename": s.folder, "timestamp": s.timestamp}
                            for s in chosen]

    def copy_files(self) -> None:
        if self._checking() and self._refusals:
            self._record_refusals()
        super().copy_files()

    def _record_refusals(self) -> None:
        assignment = self.coursedir.assignment_id
        folder = Path(self.coursedir.root) / REFUSED_DIR
        log_path = folder / REFUSED_LOG
        try:
            known = {(r["assignment"], r["folder"]) for r in read_refusals(log_path)}
        except RefusalLogError as err:
            self.fail(f"Cannot check the refused submissions already recorded: {err}")
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o700)  # evidence of other trainees' work: the instructor's eyes only
        for refusal in self._refusals:
            message = refusal_message(refusal, assignment)
            name = refusal.submission.folder
            if (assignment, name) in known:
                self.log.error("%s (Recorded before in %s.)", message, log_path)
                continue
            self.log.error(message)
            src = os.path.join(self.inbound_path, name)
            evidence = folder / assignment / name
            evidence.parent.mkdir(mode=0o700, exist_ok=True)
            size = self.get_size(src) if os.path.isdir(src) and not os.path.islink(src) else 0
            if size > 1000 * self.coursedir.max_dir_size:
                self.log.error("Not keeping a copy of %s as evidence: %d bytes, over CourseDirectory.max_dir_size",
                               src, size)
            else:
                try:
                    copy_evidence(src, evidence)
                except OSError as err:  # e.g. the attacker made their folder unreadable: record it all the same
                    self.log.error("Could not keep a copy of %s as evidence: %s", src, err)
            with log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(refusal_record(refusal, assignment, datetime.now(UTC))) + "\n")
            known.add((assignment, name))
        self.log.error("%d refused submission(s) of %s; records in %s, copies in %s", len(self._refusals),
                       assignment, log_path, folder / assignment)


__all__ = ["FIELDS", "Inbound", "OwnerCheckedCollect", "Refusal", "RefusalLogError", "choose", "content_problem",
           "copy_evidence", "read_refusals", "refusal_message", "refusal_reason", "refusal_record", "refusals_log",
           "split_submissions"]
