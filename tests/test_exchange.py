"""`nbgrader collect` refuses a submission made in another trainee's name (autograder/adapters/exchange.py).

Three layers: the pure split of inbound entries into the submission collected per trainee and the refused ones;
the collector itself in this process on real folders (any user can run those: every folder is this user's, so a
folder claiming another id is an impersonation); and, as root, the whole flow with two throwaway Unix users who
fetch and submit through the real nbgrader command line, one of them also in the other's name.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest
from conftest import ASSIGNMENT, NOTEBOOK, make_course
from nbgrader.utils import parse_utc

from autograder.adapters.exchange import (
    FIELDS,
    Inbound,
    OwnerCheckedCollect,
    Refusal,
    RefusalLogError,
    content_problem,
    read_refusals,
    refusal_message,
    refusal_record,
    refusals_log,
    split_submissions,
)
from autograder.authoring.exercises import nbgrader_env, run_nbgrader
from autograder.cli import main
from autograder.instructor.cohort import refused_submissions

T0 = datetime(2025, 3, 1, 9, 0, 0)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def entry(claimed: str, owner: str | None, hours: float, is_folder: bool = True) -> Inbound:
    return Inbound(f"{claimed}+ex01+{at(hours)} UTC+{secrets.token_hex(3)}", claimed, owner, at(hours), is_folder)


# -- the pure split -------------------------------------------------------------------------------------------------

def test_several_attempts_are_all_refused_and_the_latest_genuine_submission_is_kept():
    own = [entry("bea", "bea", 1), entry("bea", "bea", 3)]
    fakes = [entry("bea", "ann", 4), entry("bea", "ann", 2), entry("bea", "ann", 5)]
    anns = [entry("ann", "ann", 0.5)]
    chosen, refused = split_submissions([fakes[0], own[0], *anns, fakes[1], own[1], fakes[2]])
    assert chosen == [own[1], anns[0]]  # one per trainee, in the order nbgrader groups them (first seen)
    assert refused == [Refusal(fakes[1], own[1]), Refusal(fakes[0], own[1]), Refusal(fakes[2], own[1])]


def test_a_trainee_with_no_submission_of_their_own_gets_nothing_collected():
    fakes = [entry("cy", "ann", 1), entry("cy", "ann", 2)]
    chosen, refused = split_submissions([*fakes, entry("ann", "ann", 0)])
    assert [c.claimed for c in chosen] == ["ann"]
    assert refused == [Refusal(fakes[0], None), Refusal(fakes[1], None)]


def test_before_duedate_picks_the_latest_genuine_one_on_time_as_nbgrader_does():
    due = at(10)
    early, late = entry("bea", "bea", 8), entry("bea", "bea", 12)
    fake_on_time = entry("bea", "ann", 9)  # later than `early`, before the due date: still refused
    records = [early, late, fake_on_time]
    assert split_submissions(records, due, before_duedate=True)[0] == [early]
    assert split_submissions(records, due, before_duedate=False)[0] == [late]  # the flag is off: the latest
    assert split_submissions(records, None, before_duedate=True)[0] == [late]  # no due date: the latest
    # Nothing genuine on time: the latest genuine one, as nbgrader falls back to the latest.
    assert split_submissions([late, fake_on_time], due, before_duedate=True)[0] == [late]
    assert split_submissions(records, due, before_duedate=True)[1] == [Refusal(fake_on_time, early)]


def test_links_files_and_unknown_owners_are_never_genuine():
    link = entry("bea", "bea", 5, is_folder=False)  # a symbolic link bea made: could point anywhere root can read
    orphan = entry("bea", None, 6)  # a uid without a Unix user
    own = entry("bea", "bea", 1)
    chosen, refused = split_submissions([link, orphan, own])
    assert chosen == [own]
    assert refused == [Refusal(link, own), Refusal(orphan, own)]
    assert "is not a folder but a symbolic link or file made by bea" in refusal_message(refused[0], "ex01")


def test_all_genuine_means_nothing_refused_and_nbgraders_choice():
    records = [entry("ann", "ann", 2), entry("ann", "ann", 7), entry("bea", "bea", 1)]
    assert split_submissions(records) == ([records[1], records[2]], [])
    assert split_submissions([]) == ([], [])


def test_the_record_and_the_message_of_a_refusal():
    own, fake = entry("trainee2", "trainee2", 1), entry("trainee2", "trainee1", 2)
    refused_at = datetime(2025, 3, 2, 8, 30, tzinfo=UTC)
    record = refusal_record(Refusal(fake, own), "ex01", refused_at)
    assert record == {"assignment": "ex01", "claimed": "trainee2", "owner": "trainee1", "folder": fake.folder,
                      "submitted": "2025-03-01T11:00:00+00:00", "refused_at": "2025-03-02T08:30:00+00:00",
                      "kept": "2025-03-01T10:00:00+00:00", "reason": "its files belong to trainee1 (impersonation)"}
    assert tuple(record) == FIELDS
    assert refusal_record(Refusal(fake, None), "ex01", refused_at)["kept"] is None
    assert refusal_message(Refusal(fake, own), "ex01") == (
        "Refused a submission of ex01 claiming to be from trainee2: its files belong to trainee1 (impersonation). "
        "Kept trainee2's own submission of 2025-03-01T10:00:00+00:00.")
    assert refusal_message(Refusal(fake, None), "ex01").endswith(
        "Nothing collected for trainee2 from inbound/ (a copy collected earlier stays in submitted/).")
    tampered = Inbound(own.folder, "trainee2", "trainee2", own.timestamp, True, "a.ipynb belongs to trainee1")
    assert not tampered.genuine
    assert refusal_record(Refusal(tampered, None), "ex01", refused_at)["reason"] == (
        "a.ipynb belongs to trainee1 (tampering: not all of it is trainee2's own work)")


# -- reading the log ----------------------------------------------------------------------------------------------

def test_no_log_reads_as_an_empty_table_with_the_columns(tmp_path):
    frame = refused_submissions(tmp_path)
    assert frame.empty and list(frame.columns) == list(FIELDS)


def test_a_malformed_line_is_named_with_its_file_and_line_number(tmp_path):
    log = refusals_log(tmp_path)
    log.parent.mkdir()
    good = refusal_record(Refusal(entry("b", "a", 2), None), "ex01", datetime.now(UTC))
    log.write_text(json.dumps(good) + "\n\n" + '{"assignment": "ex01", "claimed": \n')
    with pytest.raises(RefusalLogError, match=rf"^{re.escape(str(log))}, line 3: not valid JSON"):
        read_refusals(log)
    log.write_text(json.dumps(good) + "\n" + json.dumps(["a", "list"]) + "\n")
    with pytest.raises(RefusalLogError, match=r"line 2: a JSON list, not an object"):
        refused_submissions(tmp_path)
    log.write_text(json.dumps({k: v for k, v in good.items() if k != "owner"}) + "\n")
    with pytest.raises(RefusalLogError, match=r"line 1: the record has no owner"):
        read_refusals(log)
    log.write_text(json.dumps(good) + "\n\n")
    assert read_refusals(log) == [good]


# -- the collector in this process, on real folders ---------------------------------------------------------------

ME = pwd.getpwuid(os.getuid()).pw_name


def _submit_folder(inbound: Path, claimed: str, when: datetime, marker: str) -> Path:
    """An inbound folder as `nbgrader submit` leaves it (made here, so owned by this process's user)."""
    folder = inbound / f"{claimed}+{ASSIGNMENT}+{when} UTC+{secrets.token_hex(4)}"
    folder.mkdir()
    (folder / NOTEBOOK).write_text(json.dumps({"cells": [], "marker": marker}))
    (folder / "timestamp.txt").write_text(f"{when} UTC")
    return folder


def _collect(course: Path, exchange: Path, check_owner: bool = True, update: bool = False) -> logging.Logger:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = "attune"
    config.Exchange.root = str(exchange)
    config.ExchangeCollect.check_owner = check_owner
    config.ExchangeCollect.update = update
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = ASSIGNMENT
    log = logging.getLogger("attune-test-collect")
    OwnerCheckedCollect(coursedir=coursedir, authenticator=Authenticator(config=config), config=config,
                        log=log).start()
    return log


@pytest.fixture
def local_exchange(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])  # a new gradebook starts `alembic`
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    inbound = exchange / "attune" / "inbound"
    inbound.mkdir(parents=True)
    course.mkdir()
    return course, exchange, inbound


def _marker(notebook: Path) -> str:
    return json.loads(notebook.read_text())["marker"]


def test_the_collector_refuses_records_once_and_keeps_evidence_without_following_links(local_exchange, caplog):
    course, exchange, inbound = local_exchange
    mine = _submit_folder(inbound, ME, at(1), "mine")
    ghost = _submit_folder(inbound, "ghost", at(2), "fake in ghost's name")
    os.mkfifo(ghost / "a-fifo")  # copying it as a file would block for ever
    os.symlink("/etc/hostname", ghost / "a-link")
    elsewhere = course.parent / "elsewhere"
    shutil.copytree(mine, elsewhere)
    (elsewhere / NOTEBOOK).write_text(json.dumps({"cells": [], "marker": "through a link"}))
    link = inbound / f"{ME}+{ASSIGNMENT}+{at(3)} UTC+link"
    link.symlink_to(elsewhere)  # the newest entry claiming this user: a link, never collected

    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange)
    assert _marker(course / "submitted" / ME / ASSIGNMENT / NOTEBOOK) == "mine"
    assert not (course / "submitted" / "ghost").exists()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert (f"Refused a submission of ex01 claiming to be from ghost: its files belong to {ME} (impersonation). "
            "Nothing collected for ghost from inbound/ (a copy collected earlier stays in submitted/).") in errors
    assert any(m.startswith(f"Refused a submission of ex01 claiming to be from {ME}: {link.name} is not a folder")
               and m.endswith(f"Kept {ME}'s own submission of {at(1).isoformat()}+00:00.") for m in errors)

    refused = course / "refused"
    assert refused.stat().st_mode & 0o777 == 0o700
    records = read_refusals(refused / "refused-submissions.jsonl")
    assert sorted(((r["claimed"], r["owner"], r["folder"], r["kept"]) for r in records), key=str) == sorted([
        (ME, ME, link.name, f"{at(1).isoformat()}+00:00"), ("ghost", ME, ghost.name, None)], key=str)
    evidence = refused / ASSIGNMENT
    assert _marker(evidence / ghost.name / NOTEBOOK) == "fake in ghost's name"
    assert os.readlink(evidence / ghost.name / "a-link") == "/etc/hostname"  # the link, not what it points to
    assert not (evidence / ghost.name / "a-fifo").exists()
    assert os.readlink(evidence / link.name) == str(elsewhere)

    # Again, and with --update: refused again, recorded once.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange, update=True)
    assert len(read_refusals(refused / "refused-submissions.jsonl")) == 2
    assert sum("Recorded before" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR) == 2
    assert _marker(course / "submitted" / ME / ASSIGNMENT / NOTEBOOK) == "mine"


def test_a_link_inside_a_trainees_own_folder_is_refused_and_never_followed(local_exchange, caplog):
    # nbgrader's collect copies links as the files they point to, with the instructor's rights.
    course, exchange, inbound = local_exchange
    _submit_folder(inbound, ME, at(1), "mine")
    secret = course / "solutions-like-secret.txt"
    secret.write_text("INSTRUCTOR SECRET")
    newer = _submit_folder(inbound, ME, at(2), "newer, with a link")
    (newer / "notes.txt").symlink_to(secret)
    assert content_problem(newer, os.lstat(newer).st_uid) == "notes.txt is a symbolic link"
    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange)
    submitted = course / "submitted" / ME / ASSIGNMENT
    assert _marker(submitted / NOTEBOOK) == "mine" and not (submitted / "notes.txt").exists()
    [record] = read_refusals(refusals_log(course))
    assert record["folder"] == newer.name and record["reason"].startswith("notes.txt is a symbolic link")
    assert os.readlink(course / "refused" / ASSIGNMENT / newer.name / "notes.txt") == str(secret)


def test_a_file_of_another_user_inside_a_trainees_folder_is_refused(local_exchange, caplog):
    # nbgrader makes submission folders world-writable: whoever learns a folder's name can replace its files.
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (CI runs as root)")
    course, exchange, inbound = local_exchange
    _submit_folder(inbound, ME, at(1), "mine")
    tampered = _submit_folder(inbound, ME, at(2), "replaced by someone else")
    os.chown(tampered / NOTEBOOK, 65534, 65534)
    other = pwd.getpwuid(65534).pw_name
    assert content_problem(tampered, os.getuid()) == f"{NOTEBOOK} belongs to {other}"
    sub = tampered / "sub"
    sub.mkdir()
    os.mkfifo(sub / "pipe")
    assert content_problem(sub, os.getuid()) == "pipe is not a plain file"
    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange)
    assert _marker(course / "submitted" / ME / ASSIGNMENT / NOTEBOOK) == "mine"
    [record] = read_refusals(refusals_log(course))
    assert record["reason"] == f"{NOTEBOOK} belongs to {other} (tampering: not all of it is {ME}'s own work)"


def test_a_folder_with_a_malformed_name_stops_nobodys_collect(local_exchange, caplog):
    course, exchange, inbound = local_exchange
    _submit_folder(inbound, ME, at(1), "mine")
    (inbound / f"{ME}+{ASSIGNMENT}+not-a-time").mkdir()  # any trainee can make this: inbound/ is 0733
    with pytest.raises(Exception, match=r"not-a-time|Unknown string format|String does not contain a date"):
        _collect(course, exchange, check_owner=False)  # nbgrader's own collect: stops for everyone
    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange)
    assert _marker(course / "submitted" / ME / ASSIGNMENT / NOTEBOOK) == "mine"
    assert any(r.levelno == logging.ERROR and r.getMessage().startswith("Skipped ") and "not-a-time" in
               r.getMessage() for r in caplog.records)


def test_a_refused_folder_that_cannot_be_copied_is_still_refused_and_recorded(local_exchange, caplog):
    course, exchange, inbound = local_exchange
    ghost = _submit_folder(inbound, "ghost", at(2), "fake in ghost's name")
    (course / "refused" / ASSIGNMENT).mkdir(parents=True)
    (course / "refused" / ASSIGNMENT / ghost.name).write_text("in the way")  # copying onto it fails
    with caplog.at_level(logging.INFO, logger="attune-test-collect"):
        _collect(course, exchange)
    assert any(r.getMessage().startswith(f"Could not keep a copy of {ghost}") for r in caplog.records)
    assert [r["folder"] for r in read_refusals(refusals_log(course))] == [ghost.name]
    assert not (course / "submitted" / "ghost").exists()


def test_with_check_owner_off_the_collector_is_nbgraders(local_exchange):
    course, exchange, inbound = local_exchange
    _submit_folder(inbound, ME, at(1), "mine")
    _submit_folder(inbound, "ghost", at(2), "fake in ghost's name")
    _collect(course, exchange, check_owner=False)
    assert _marker(course / "submitted" / "ghost" / ASSIGNMENT / NOTEBOOK) == "fake in ghost's name"
    assert not (course / "refused").exists()


def test_with_all_submissions_genuine_the_choice_is_nbgraders_own(local_exchange):
    from nbgrader.api import Gradebook
    from nbgrader.exchange.default import ExchangeCollect

    course, exchange, inbound = local_exchange
    for hours in (1, 5, 3, 12, 9):
        _submit_folder(inbound, ME, at(hours), f"at {hours}")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attune") as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=at(6))
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    for before_duedate in (False, True):
        chosen = []
        for cls in (ExchangeCollect, OwnerCheckedCollect):
            config = Config()
            config.CourseDirectory.root = str(course)
            config.CourseDirectory.course_id = "attune"
            config.Exchange.root = str(exchange)
            config.ExchangeCollect.before_duedate = before_duedate
            coursedir = CourseDirectory(config=config)
            coursedir.assignment_id = ASSIGNMENT
            collector = cls(coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
            collector.init_src()
            chosen.append(collector.src_records)
        assert chosen[0] == chosen[1]
        assert chosen[1][0]["timestamp"] == (at(5) if before_duedate else at(12))


def test_the_report_fails_clearly_on_a_malformed_log(local_exchange, capsys):
    course, _exchange, _inbound = local_exchange
    log = refusals_log(course)
    log.parent.mkdir()
    log.write_text("not json\n")
    assert main(["report", "--course", str(course)]) == 1
    assert re.match(rf"^attune report: {re.escape(str(log))}, line 1: not valid JSON", capsys.readouterr().err)


# -- end to end, as root, with real Unix users and nbgrader's command line ------------------------------------------

NEEDS_ROOT = ("creates throwaway Unix users (useradd/userdel) and runs nbgrader as each of them (runuser): "
              "needs root")


@pytest.fixture(scope="module")
def as_root() -> None:
    """Skip the end-to-end test unless root (fail instead under CI, which runs as root)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"This test {NEEDS_ROOT}; CI runs as root, so it must not be skipped there.")
        pytest.skip(f"This test {NEEDS_ROOT}.")
    missing = [tool for tool in ("useradd", "userdel", "runuser") if shutil.which(tool) is None]
    if missing or not Path("/usr/bin/python3").is_file():
        pytest.fail(f"This test needs {', '.join(missing) or '/usr/bin/python3'} (Debian's passwd, util-linux, "
                    "python3-venv).")


needs_root = pytest.mark.usefixtures("as_root")


def _shared_folder(prefix: str, mode: int) -> Path:
    """A new folder every user can reach: not under /tmp/pytest-of-root (0700) nor /root."""
    parent = "/srv" if os.access("/srv", os.W_OK) else "/var/tmp"
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    folder.chmod(mode)
    return folder


@pytest.fixture(scope="module")
def trainee_bin(as_root) -> Iterator[Path]:
    """bin/ of a venv with the project's nbgrader version that other users can run.

    The project's venv cannot serve them: its Python lives under /root (mode 0700), and CI's clone may sit in a
    0700 temporary folder. So: Debian's /usr/bin/python3, a world-readable folder, `pip install nbgrader==...`
    (pip's cache makes it quick after the first time)."""
    folder = _shared_folder("attune-trainee-venv-", 0o755)
    try:
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(folder)], check=True, capture_output=True, timeout=120)
        pip = subprocess.run([str(folder / "bin" / "pip"), "install", "--quiet", "--no-compile",
                              f"nbgrader=={version('nbgrader')}"], capture_output=True, text=True, timeout=600)
        assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
        yield folder / "bin"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def trainees(as_root) -> Iterator[list[str]]:
    """Two throwaway Unix users with private (0700) homes, removed with their homes at the end."""
    made: list[str] = []
    try:
        for _ in range(2):
            name = f"att{secrets.token_hex(3)}"
            subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", name], check=True, capture_output=True,
                           timeout=60)
            made.append(name)
        yield made
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", name], capture_output=True, timeout=60)
        left = [name for name in made if subprocess.run(["id", name], capture_output=True).returncode == 0]
        assert not left, f"could not remove the test users {left}"


@pytest.fixture(scope="module")
def exchange_root(as_root) -> Iterator[Path]:
    """A new exchange root as nbgrader wants it: world-writable, sticky (1777)."""
    folder = _shared_folder("attune-exchange-", 0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_trainee(user: str, bin_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real nbgrader command line, run by ``user`` in their working folder, with a clean environment."""
    home = Path(pwd.getpwnam(user).pw_dir)
    command = ["runuser", "-u", user, "--", "env", "-i", f"HOME={home}", f"PATH={bin_dir}:/usr/bin:/bin",
               "LANG=C.UTF-8", str(bin_dir / "nbgrader"), *args]
    done = subprocess.run(command, cwd=home / "work", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} as {user}:\n{done.stdout}\n{done.stderr}"
    return done


def _in_parallel(*calls) -> None:
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        for future in [pool.submit(*call) for call in calls]:
            future.result()


def _mark(notebook: Path, text: str) -> None:
    """Add a markdown cell saying whose work this is (edited in place: the file keeps its owner)."""
    nb = json.loads(notebook.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": secrets.token_hex(4), "metadata": {}, "source": text})
    notebook.write_text(json.dumps(nb))


def _markers(notebook: Path) -> list[str]:
    return [c["source"] for c in json.loads(notebook.read_text())["cells"] if str(c["source"]).startswith("WORK OF")]


@pytest.mark.nbgrader
@needs_root
def test_as_root_collect_refuses_a_real_trainees_submission_in_anothers_name(trainees, trainee_bin, exchange_root,
                                                                           tmp_path, capsys):
    ann, bea = trainees  # ann is the attacker, bea the victim
    course = make_course(tmp_path)
    exchange = [f"--Exchange.root={exchange_root}"]
    run_nbgrader(["generate_assignment", ASSIGNMENT], cwd=course)
    run_nbgrader(["release_assignment", ASSIGNMENT, *exchange], cwd=course)
    for user in trainees:
        account = pwd.getpwnam(user)
        (Path(account.pw_dir) / "work").mkdir()
        os.chown(Path(account.pw_dir) / "work", account.pw_uid, account.pw_gid)
    notebooks = {user: Path(pwd.getpwnam(user).pw_dir) / "work" / ASSIGNMENT / NOTEBOOK for user in trainees}
    fetch = ["fetch_assignment", ASSIGNMENT, "--course=attune", *exchange]
    _in_parallel(*[(_as_trainee, user, trainee_bin, *fetch) for user in trainees])
    own, fake = {u: f"WORK OF {u}: their own" for u in trainees}, f"WORK OF {ann}, submitted in {bea}'s name"
    for user in trainees:
        _mark(notebooks[user], own[user])
        assert notebooks[user].stat().st_uid == pwd.getpwnam(user).pw_uid
    submit = ["submit", ASSIGNMENT, "--course=attune", *exchange]
    _in_parallel(*[(_as_trainee, user, trainee_bin, *submit) for user in trainees])
    # Later, ann submits again, this time in bea's name, with content that is recognisably hers.
    _mark(notebooks[ann], fake)
    _as_trainee(ann, trainee_bin, *submit, f"--student={bea}")
    inbound = exchange_root / "attune" / "inbound"
    fakes = [p for p in inbound.iterdir() if p.name.startswith(f"{bea}+") and p.stat().st_uid != os.getuid()
             and pwd.getpwuid(p.stat().st_uid).pw_name == ann]
    assert len(fakes) == 1 and len(list(inbound.iterdir())) == 3
    fake_folder = fakes[0]

    # The instructor collects, with the project's nbgrader_config.py (OwnerCheckedCollect).
    collected = run_nbgrader(["collect", ASSIGNMENT, *exchange], cwd=course)
    submitted = course / "submitted"
    assert _markers(submitted / bea / ASSIGNMENT / NOTEBOOK) == [own[bea]]  # her real work, not ann's
    assert _markers(submitted / ann / ASSIGNMENT / NOTEBOOK) == [own[ann]]
    bea_kept = parse_utc((submitted / bea / ASSIGNMENT / "timestamp.txt").read_text())
    fake_time = parse_utc(fake_folder.name.split("+")[2])
    assert fake_time > bea_kept  # the fake was the newest: stock nbgrader would have taken it
    log = collected.stdout + collected.stderr
    line = next(x for x in log.splitlines() if "Refused a submission" in x)
    assert "ERROR" in line
    assert (f"Refused a submission of {ASSIGNMENT} claiming to be from {bea}: its files belong to {ann} "
            f"(impersonation). Kept {bea}'s own submission of {bea_kept.isoformat()}+00:00.") in line
    assert "cheating attempt?" not in log  # nothing impersonated reached nbgrader's own copying

    records = read_refusals(course / "refused" / "refused-submissions.jsonl")
    assert len(records) == 1
    record = records[0]
    assert {k: v for k, v in record.items() if k != "refused_at"} == {
        "assignment": ASSIGNMENT, "claimed": bea, "owner": ann, "folder": fake_folder.name,
        "submitted": f"{fake_time.isoformat()}+00:00", "kept": f"{bea_kept.isoformat()}+00:00",
        "reason": f"its files belong to {ann} (impersonation)"}
    refused_at = datetime.fromisoformat(record["refused_at"])
    assert refused_at.tzinfo is not None and abs(datetime.now(UTC) - refused_at) < timedelta(minutes=10)
    evidence = course / "refused" / ASSIGNMENT / fake_folder.name
    assert _markers(evidence / NOTEBOOK) == [own[ann], fake]
    assert (course / "refused").stat().st_mode & 0o777 == 0o700

    # Collect again with --update: still bea's real work, and the attempt is not recorded twice.
    again = run_nbgrader(["collect", ASSIGNMENT, "--update", *exchange], cwd=course)
    assert "Recorded before" in again.stderr + again.stdout
    assert len(read_refusals(course / "refused" / "refused-submissions.jsonl")) == 1
    assert _markers(submitted / bea / ASSIGNMENT / NOTEBOOK) == [own[bea]]

    # The report lists the attempt and writes it as CSV.
    assert main(["grade", ASSIGNMENT, "--static", "--quiet", "--course", str(course)]) == 0
    assert main(["report", "--course", str(course), "--no-feedback"]) == 0
    out = capsys.readouterr().out
    assert "refused-submissions.csv" in out
    page = (course / "report" / "report.html").read_text()
    assert "Refused submissions (impersonation or tampering) (1)" in page
    assert all(text in page for text in (fake_folder.name, bea, ann, record["refused_at"]))
    table = pd.read_csv(course / "report" / "refused-submissions.csv")
    assert list(table.columns) == list(FIELDS) and table.to_dict("records") == [record]

    # Control: with the owner check off, nbgrader's stock behaviour returns and the fake overwrites bea's work.
    # (So the assertions above can fail.)
    stock = run_nbgrader(["collect", ASSIGNMENT, "--update", "--CollectApp.check_owner=False", *exchange],
                         cwd=course)
    assert "Refused" not in stock.stdout + stock.stderr
    assert _markers(submitted / bea / ASSIGNMENT / NOTEBOOK) == [own[ann], fake]
    assert len(read_refusals(course / "refused" / "refused-submissions.jsonl")) == 1
