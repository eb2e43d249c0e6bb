"""A corpus of sandbox escape attempts: what a hostile trainee could append to an answer cell, graded by plain
`nbgrader autograde` with the project's config (every kernel in the bubblewrap sandbox, autograder/adapters/sandbox.py).

Each attempt is its own trainee, in one cohort per gradebook (SQLite, PostgreSQL), between two honest classmates (one
graded before every attacker, one after). Each trainee's answers are known, so what each must earn is known. One more
attempt, which stalls the whole run when it succeeds, has a cohort of its own. The three cohorts are graded at the same
time, each under its own sandbox uid (c.GradingSandbox.uid), so the run takes about two minutes.
For every attempt: nothing of the course folder outside its own autograded copy changed (byte for byte, no new file),
every trainee's gradebook total is what its answers as written earn, nothing it started still runs and its marker
files are never written, no secret of the grader reaches any notebook, and every submission was graded.

`pytest -s` prints a table "attempt | outcome" per gradebook: what each attack printed inside the sandbox.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, make_course
from postgres import postgres_url  # noqa: F401  (a fixture: see tests/postgres.py)
from test_hostile import EXERCISE, KEY_TEXT, NOTEBOOK, PARTS, correct, literal, partial, points, with_sources

from autograder.authoring.exercises import nbgrader_env, run_nbgrader

pytestmark = pytest.mark.nbgrader

TOKEN = secrets.token_hex(4)  # this run's: markers and the secret never match anything left by an earlier run
SECRET = f"attune-test-secret-{secrets.token_hex(8)}"
BEFORE, AFTER = "aaa-honest", "zzz-honest"  # graded before and after every attacker (nbgrader goes by name)
# The test course's limits, low enough for a quick run (c.GradingSandbox.* and c.Execute.timeout).
DISK_MB, MEMORY_MB, PROCESSES, OUTPUT_MB, WALL_SECONDS, CELL_TIMEOUT = 64, 1024, 64, 16, 60, 8
# RLIMIT_NPROC counts every process of a uid on the whole machine: the fork bomb would otherwise also starve the
# kernels of any other grading run at the same time under the default uid 65534 (other test runs included).
# Each cohort has its own, so the cohorts can be graded at the same time.
UIDS = {"sqlite": 64961, "postgres": 64962, "fifo": 64963}
FIFO_SECONDS = 60  # the FIFO cohort (two submissions) is stalled if nbgrader has not finished by then


def marker(db: str, name: str) -> str:
    """What an attempt's files and helper processes are marked with (no attempt's is the beginning of another's)."""
    return f"attune-escape-{TOKEN}-{db}-{name}-end"


@dataclass(frozen=True)
class Attempt:
    """One hostile trainee: ``code`` (a string.Template) is appended to their answer cell answers_amira."""

    name: str
    code: str
    what: str


# Writes files of 10 MB into a place until its space runs out (or 3 x disk_mb), then says how much it wrote.
FILL = """
import os
def fill(place):
    block = b"x" * (10 * 2**20)
    written = 0
    try:
        for i in range(3 * $disk_mb // 10):
            with open(os.path.join(place, f"fill-{i}.bin"), "wb") as out:
                out.write(block)
            written += 10
    except OSError as err:
        print(type(err).__name__, err.strerror, end=": ")
    print("WROTE", place, written, "MB")
"""

ATTEMPTS = [
    Attempt("sqlite-gradebook", """
import os, sqlite3
found, folder = [], os.getcwd()
while folder != "/":
    found.append(os.path.join(folder, "gradebook.db"))
    folder = os.path.dirname(folder)
for path in [*found, "$course/gradebook.db"]:
    try:
        db = sqlite3.connect(path)
        mine = db.execute("UPDATE grade SET extra_credit = 50, manual_score = 100").rowcount  # everybody's
        theirs = db.execute("UPDATE grade SET manual_score = 0 WHERE notebook_id IN (SELECT n.id FROM "
                            "submitted_notebook n JOIN submitted_assignment s ON n.assignment_id = s.id "
                            "WHERE s.student_id = '$after')").rowcount
        db.commit()
        print("UPDATED", mine, "+", theirs, "rows in", path)
    except Exception as err:
        print("no", path, "-", type(err).__name__, err)
""", "gradebook rows through sqlite3 (walking up from cwd, and the course's absolute path)"),
    Attempt("gradebook-api", """
import sqlalchemy
from nbgrader.api import Gradebook
for url in ["$db_url", "sqlite:///$course/gradebook.db", "sqlite:///../../../gradebook.db"]:
    try:
        with Gradebook(url, course_id="attune") as gb:
            for who in ("$student", "$before", "$after"):
                for part in ("score_amira", "score_kwame", "score_concerns"):
                    row = gb.find_grade(part, "hearing-the-concern", "ex01", who)
                    row.manual_score, row.extra_credit = (0.0, 0.0) if who == "$after" else (30.0, 50.0)
            gb.db.commit()
        print("WROTE through nbgrader.api", url)
    except Exception as err:
        print("nbgrader.api:", type(err).__name__, str(err).splitlines()[0][:100])
    try:
        with sqlalchemy.create_engine(url).begin() as conn:
            rows = conn.execute(sqlalchemy.text("UPDATE grade SET extra_credit = 50")).rowcount
        print("UPDATED", rows, "rows through sqlalchemy", url)
    except Exception as err:
        print("sqlalchemy:", type(err).__name__, str(err).splitlines()[0][:100])
""", "gradebook rows through nbgrader.api.Gradebook and SQLAlchemy (the configured URL too)"),
    Attempt("read-solutions", """
import glob, shutil
key = "solutions/ex01/keys/amira-night-shifts.yaml"
keys = sorted({*glob.glob("$course/solutions/ex01/keys/*.yaml"), *glob.glob("$repo/solutions/ex01/keys/*.yaml"),
               f"$course/{key}", f"$repo/{key}", f"../../../{key}", "$course/solutions/ex01/hearing-the-concern.ipynb"})
for key in keys:
    try:
        text = open(key).read()
        print("READ", key, text[:400])
        open("stolen-key.yaml", "w").write(text)
        shutil.copy(key, "/tmp/stolen-key.yaml")
    except Exception as err:
        print("no", key, "-", type(err).__name__)
""", "the keys in solutions/ (course and repository), printed and copied into cwd and /tmp"),
    Attempt("course-config", """
for path in ["$course/nbgrader_config.py", "../../../nbgrader_config.py"]:
    try:
        with open(path, "a") as config:
            config.write("\\nc.GradingSandbox.run_unsandboxed = True  # $marker\\n")
        print("APPENDED", path)
    except Exception as err:
        print("no", path, "-", type(err).__name__)
for path in ["$course/$marker.py", "$course/solutions/ex01/$marker.txt", "$course/exercises/ex01/$marker.txt"]:
    try:
        open(path, "w").write("$marker")
        print("CREATED", path)
    except Exception as err:
        print("no", path, "-", type(err).__name__)
""", "append to the course's nbgrader_config.py, create files beside it and in solutions/, exercises/"),
    Attempt("classmates-notebooks", """
import os
for who in ("$before", "$after"):
    for place in ("submitted", "autograded"):
        path = f"$course/{place}/{who}/ex01/hearing-the-concern.ipynb"
        try:
            print("READ", path, len(open(path).read()), "chars")
        except Exception as err:
            print("no", path, "-", type(err).__name__)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").write('{"cells": []}  $marker')
            print("OVERWROTE", path)
        except Exception as err:
            print("cannot overwrite", path, "-", type(err).__name__)
for folder in ("$course/submitted", "$course/autograded", "../.."):
    try:
        print(folder, "holds", os.listdir(folder))
    except Exception as err:
        print("no", folder, "-", type(err).__name__)
""", "read, overwrite and empty a classmate's submitted/ and autograded/ notebook"),
    Attempt("symlinks", """
import os, sqlite3
os.symlink("../../..", "up")
os.symlink("$course", "course-link")
os.symlink("$course/gradebook.db", "gradebook-link.db")
for path in ("up/$marker.txt", "up/nbgrader_config.py", "course-link/$marker.txt", "course-link/nbgrader_config.py"):
    try:
        with open(path, "a") as out:
            out.write("# $marker")
        print("WROTE", path)
    except Exception as err:
        print("no", path, "-", type(err).__name__)
try:
    db = sqlite3.connect("gradebook-link.db")
    print("UPDATED", db.execute("UPDATE grade SET extra_credit = 50").rowcount, "rows through a link")
    db.commit()
except Exception as err:
    print("no gradebook through a link -", type(err).__name__, err)
""", "symbolic links from the own folder to ../../.., the course and the gradebook, written through"),
    Attempt("proc-secrets", """
import glob, os
print("os.environ:", dict(os.environ))
for path in ["/proc/1/environ", f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/cmdline",
             *glob.glob("/proc/[0-9]*/environ"), "/proc/1/root/proc/1/environ"]:
    try:
        print("READ", path, open(path, "rb").read().decode(errors="replace").replace("\\0", " "))
    except Exception as err:
        print("no", path, "-", type(err).__name__)
print("processes seen:", sorted(p for p in os.listdir("/proc") if p.isdigit()))
""", "the grader's environment through /proc (pid 1, the parent, every /proc/*/environ) and os.environ"),
    Attempt("network", """
import glob, socket
for port in ($port, $pg_port):
    for host in ("127.0.0.1", "localhost", "::1"):
        try:
            with socket.create_connection((host, port), timeout=3) as conn:
                conn.sendall(b"$marker")
            print("CONNECTED", host, port)
        except Exception as err:
            print("no", host, port, "-", type(err).__name__)
for address in ["\\0$abstract", *glob.glob("/tmp/attune-pg-*/sock/.s.PGSQL.*"), "/run/postgresql/.s.PGSQL.5432"]:
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(address)
            conn.sendall(b"$marker")
        print("CONNECTED", repr(address))
    except Exception as err:
        print("no", repr(address), "-", type(err).__name__)
""", "TCP to 127.0.0.1 (a listener of the test's, the PostgreSQL port), an abstract and a PostgreSQL Unix socket"),
    Attempt("fork-bomb", """
import os
started = 0
for i in range(100_000):
    try:
        pid = os.fork()
    except OSError as err:
        print(f"fork {i} refused: {err}")
        break
    if pid == 0:
        try:
            os.execv("/bin/sh", ["sh", "-c", "sleep 600; exit", "$marker"])
        finally:
            os._exit(0)
    started += 1
print("children started:", started)
""", "os.fork in a loop of 100000, each child a sleeping shell"),
    Attempt("memory", """
hog = []
try:
    while True:
        hog.append(bytearray(64 * 2**20))
except MemoryError:
    print("MemoryError after", 64 * len(hog), "MiB")
del hog
""", "bytearrays of 64 MiB in a loop"),
    Attempt("memory-in-processes", """
import subprocess, sys, time
hogs = [subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(700 * 2**20); time.sleep(600)", "$marker"])
        for _ in range(4)]
time.sleep(3)
held = sum(int(line.split()[1]) for hog in hogs for line in open(f"/proc/{hog.pid}/status")
           if line.startswith("VmRSS")) // 1024
print(len(hogs), "processes of 700 MiB each, together holding", held, "MiB")
""", "memory spread over 4 processes of 700 MiB each (memory_mb is a limit per process)"),
    Attempt("fill-disk", FILL + """
for place in (".", "/tmp", "/dev/shm", "$course"):
    fill(place)
""", "files of 10 MB in a loop into cwd, /tmp, /dev/shm and the course folder"),
    Attempt("fill-private-folder", FILL + """
args = open("/proc/self/cmdline", "rb").read().decode().split("\\0")
fill(os.path.dirname(args[args.index("-f") + 1]))  # the folder of the kernel's connection file
""", "files of 10 MB into the folder of the kernel's connection file (once shared with the grader; read-only now)"),
    Attempt("endless-loop", """
while True:
    pass
""", "while True: pass"),
    Attempt("endless-loop-no-sigint", """
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
""", "while True: pass, with SIGINT ignored"),
    Attempt("signal-parent", """
import os, signal, sys, time
for pid, sig in ((os.getppid(), signal.SIGKILL), (1, signal.SIGTERM)):
    try:
        os.kill(pid, sig)
        print("sent", sig.name, "to", pid)
    except OSError as err:
        print("no", sig.name, "to", pid, "-", err)
sys.stdout.flush()
time.sleep(0.5)
os.killpg(0, signal.SIGKILL)
""", "os.kill(os.getppid(), SIGKILL), os.kill(1, SIGTERM), os.killpg(0, SIGKILL)"),
    Attempt("signal-everyone", """
import os, signal, sys, time
print("kill(-1, SIGKILL) from pid", os.getpid())
sys.stdout.flush()
time.sleep(0.5)
os.kill(-1, signal.SIGKILL)
""", "os.kill(-1, SIGKILL)"),
    Attempt("left-running", """
import os, subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "$marker"], start_new_session=True)
daemon = ("import time\\n"
          "while True:\\n"
          "    for place in ('$course/$marker.alive', '/tmp/$marker.alive', '$home/$marker.alive'):\\n"
          "        try:\\n"
          "            open(place, 'w').write(str(time.time()))\\n"
          "        except OSError:\\n"
          "            pass\\n"
          "    time.sleep(1)\\n")
child = os.fork()
if child == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", daemon, "$marker"])
    os._exit(0)
os.waitpid(child, 0)
print("left behind: a sleeper in its own session and a double-forked daemon")
""", "subprocess.Popen(sleep 600, start_new_session=True) and a double-fork daemon writing a marker file every second"),
    Attempt("fake-score", """
import builtins, autograder.cells
autograder.cells.grade = lambda *args, **kwargs: 999
builtins.float = lambda *args: 999.0
print("grade() now gives", autograder.cells.grade(), "and float() gives", float())
""", "autograder.cells.grade returns 999 and builtins.float is patched, so the hidden test prints 999"),
    Attempt("huge-output", """
for _ in range(200):
    print("x" * 2**20, flush=True)
""", "200 MB printed"),
    Attempt("grader-home", """
import os
for path in ("$home/.bashrc", "$home/$marker.txt", "$home/.jupyter/jupyter_notebook_config.py",
             os.path.expanduser("~/.bashrc")):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as out:
            out.write("\\n# $marker\\n")
        print("WROTE", path)
    except OSError as err:
        print("no", path, "-", type(err).__name__)
""", "write into the grader's $HOME (.bashrc, .jupyter/)"),
    Attempt("ptrace", """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for pid in (os.getppid(), 1):
    done = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    print("ptrace attach", pid, "->", done, os.strerror(ctypes.get_errno()))
try:
    open(f"/proc/{os.getppid()}/mem", "rb").read(16)
    print("READ the parent's memory")
except OSError as err:
    print("no parent memory -", type(err).__name__)
""", "ptrace(PTRACE_ATTACH) the parent and pid 1, read /proc/<ppid>/mem"),
    Attempt("kernel-log-link", """
import os, sys, time
args = open("/proc/self/cmdline", "rb").read().decode().split("\\0")
log = os.path.join(os.path.dirname(args[args.index("-f") + 1]), "kernel.log")
os.remove(log)
os.symlink("$course/solutions/ex01/keys/amira-night-shifts.yaml", log)  # the grader reads it when I die
print("kernel.log ->", os.readlink(log))
sys.stdout.flush()
time.sleep(0.5)
os._exit(1)
""", "kernel.log beside the connection file becomes a link to a key in solutions/, then the kernel dies"),
]
NAMES = [a.name for a in ATTEMPTS]
# The FIFO stalls the whole run for ever, so it gets a cohort of its own: itself and one honest classmate after it.
FIFO = Attempt("kernel-log-fifo", """
import os
args = open("/proc/self/cmdline", "rb").read().decode().split("\\0")
log = os.path.join(os.path.dirname(args[args.index("-f") + 1]), "kernel.log")
os.remove(log)
os.mkfifo(log)  # the grader opens kernel.log for reading when my kernel ends: nobody will ever write to it
print(log, "is now a FIFO")
""", "kernel.log beside the connection file becomes a FIFO")


def expected_total(student: str) -> float:
    answers = correct if student == AFTER else partial  # every attacker answers like BEFORE: partly right
    return sum(points(v, answers(v)) for v in PARTS)


def submission(student: str, attack: str = "") -> dict[str, str]:
    answers = correct if student == AFTER else partial
    sources = {v: literal(v, answers(v)) for v in PARTS}
    sources["amira"] += "\n" + attack.strip("\n")
    return sources


# -- what the test watches from outside: a listener, the processes, the course folder -------------------------------


class Listener:
    """A TCP socket on 127.0.0.1 and an abstract Unix socket, each recording whoever connects and what they send."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.abstract_name = f"attune-escape-{TOKEN}"
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + self.abstract_name)
        self.unix.listen()
        self.port = self.tcp.getsockname()[1]
        self.heard: list[tuple[str, bytes]] = []
        self.threads = [threading.Thread(target=self._serve, args=(s,), daemon=True) for s in (self.tcp, self.unix)]
        for thread in self.threads:
            thread.start()

    def _serve(self, server: socket.socket) -> None:
        while True:
            try:
                conn, address = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    data = conn.recv(4096)
                except OSError:
                    data = b""
                self.heard.append((str(address), data))

    def close(self) -> None:
        self.tcp.close()
        self.unix.close()


def processes_mentioning(*needles: str) -> list[str]:
    """The pid and command line of every process (of this machine) whose cmdline or name contains a needle."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            text = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            text += " " + (entry / "comm").read_text().strip()
            if any(n in text for n in needles):
                found.append(f"{entry.name}: {text[:200]}")
    return found


NBGRADER_WRITES = {"gradebook.db", "gradebook.db-journal", ".nbgrader.log"}


def snapshot(course: Path) -> dict[str, str]:
    """Every path of the course folder outside autograded/ (and the gradebook and log nbgrader writes): a file's
    SHA-256, a link's target, or "dir"."""
    found = {}
    for folder, dirs, files in os.walk(course):
        here = Path(folder)
        if here == course:
            dirs[:] = [d for d in dirs if d != "autograded"]
            files = [f for f in files if f not in NBGRADER_WRITES]
        for name in dirs + files:
            path = here / name
            relative = str(path.relative_to(course))
            if path.is_symlink():
                found[relative] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                found[relative] = "dir"
            else:
                found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def home_files() -> dict[str, str | None]:
    home = Path.home()
    found = {}
    for path in (home / ".bashrc", home / ".jupyter" / "jupyter_notebook_config.py"):
        found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return found


def marker_files(course: Path, db: str) -> list[str]:
    places = [course, Path("/tmp"), Path.home(), Path.cwd()]
    return [str(p) for folder in places for p in folder.glob(f"attune-escape-{TOKEN}-{db}-*")]


def recorded(db_url: str) -> dict[str, dict[str, tuple]]:
    """student -> grade cell -> (auto score, manual score, extra credit), from nbgrader's own API."""
    from nbgrader.api import Gradebook

    found: dict[str, dict[str, tuple]] = {}
    with Gradebook(db_url, course_id="attune") as gb:
        for sub in gb.assignment_submissions(EXERCISE):
            for nb in sub.notebooks:
                for grade in nb.grades:
                    found.setdefault(sub.student.id, {})[grade.name] = (grade.auto_score, grade.manual_score,
                                                                        grade.extra_credit)
    return found


def total(rows: dict[str, tuple]) -> float:
    return sum((manual if manual is not None else auto or 0.0) + (extra or 0.0)
               for auto, manual, extra in rows.values())


def answer_outputs(nb: dict) -> str:
    """What the trainee's answer cell printed (streams, results, errors) while it ran for grading."""
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "answers_amira")
    said = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            text = output["text"]
            said.append("".join(text) if isinstance(text, list) else text)
        elif output.get("output_type") == "error":
            said.append(f"{output.get('ename')}: {output.get('evalue')}")
        elif "data" in output:
            plain = output["data"].get("text/plain", "")
            said.append("".join(plain) if isinstance(plain, list) else plain)
    text = "".join(s if s.endswith("\n") else s + "\n" for s in said)
    return re.sub(r"(?m)^Loaded \d+ coded turn\(s\) from the answer cell into the form\.\n", "", text)


def outcome(said: str, course: Path, width: int = 300) -> str:
    said = said.replace(str(course), "<course>").replace(str(ROOT), "<repo>")
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    lines = [line if len(line) < 100 else line[:97] + "..." for line in lines]
    merged: list[str] = []
    for line in lines:  # a run of "x" * 2**20 lines is one line of the table
        if merged and line == merged[-1].split(" (x")[0]:
            count = int(merged[-1].split(" (x")[1].rstrip(")")) + 1 if " (x" in merged[-1] else 2
            merged[-1] = f"{line} (x{count})"
        else:
            merged.append(line)
    text = "; ".join(merged) or "(printed nothing)"
    return text if len(text) <= width else text[:width - 3] + "..."


# -- the cohorts, graded once per gradebook, all at the same time ----------------------------------------------------


@pytest.fixture(scope="module")
def listener():
    heard = Listener()
    yield heard
    heard.close()


def prepare(course: Path, db: str, db_url: str, pg_port: int, listener: Listener,
            attempts: list[Attempt]) -> dict[str, str]:
    """The course folder with every trainee's submission; returns student -> the attack appended to their answers."""
    with (course / "nbgrader_config.py").open("a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n"
                     f"c.GradingSandbox.uid = {UIDS[db]}\nc.GradingSandbox.disk_mb = {DISK_MB}\n"
                     f"c.GradingSandbox.memory_mb = {MEMORY_MB}\nc.GradingSandbox.processes = {PROCESSES}\n"
                     f"c.GradingSandbox.output_mb = {OUTPUT_MB}\nc.GradingSandbox.wall_seconds = {WALL_SECONDS}\n"
                     f"c.Execute.timeout = {CELL_TIMEOUT}\n")
    run_nbgrader(["generate_assignment", EXERCISE, "--force"], cwd=course)
    released = json.loads((course / "exercises" / EXERCISE / f"{NOTEBOOK}.ipynb").read_text())
    students = {BEFORE: "", AFTER: ""} if db != "fifo" else {AFTER: ""}
    for attempt in attempts:
        students[attempt.name] = string.Template(attempt.code).substitute(
            course=course, repo=ROOT, student=attempt.name, before=BEFORE, after=AFTER, db_url=db_url,
            port=listener.port, pg_port=pg_port, abstract=listener.abstract_name, home=Path.home(),
            disk_mb=DISK_MB, marker=marker(db, attempt.name))
    for student, attack in students.items():
        folder = course / "submitted" / student / EXERCISE
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_bytes(with_sources(submission(student, attack))(released))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    return students


def finish(run: dict) -> None:
    """Right after its nbgrader ended: what still runs, which marker files exist, what nbgrader said."""
    course, db = run["course"], run["db"]
    run["seconds"] = time.monotonic() - run["started"]
    run["finished"] = time.monotonic()
    run["running"] = processes_mentioning(str(course), f"attune-escape-{TOKEN}-{db}-")
    run["written"] = marker_files(course, db)
    run["done"] = subprocess.CompletedProcess(run["process"].args, run["process"].returncode,
                                              run["out"].read_text(), run["err"].read_text())


def collect(run: dict) -> None:
    """A few seconds later (a daemon that survived would have written its marker file again): the results."""
    course, db = run["course"], run["db"]
    time.sleep(max(0.0, run["finished"] + 2.5 - time.monotonic()))
    run["running_later"] = processes_mentioning(str(course), f"attune-escape-{TOKEN}-{db}-")
    run["written_later"] = marker_files(course, db)
    run["notebooks"] = {}
    for student in run["students"]:
        path = course / "autograded" / student / EXERCISE / f"{NOTEBOOK}.ipynb"
        run["notebooks"][student] = path.read_text() if path.is_file() else None
    run["said"] = {s: answer_outputs(json.loads(t)) if t else "(no autograded notebook)"
                   for s, t in run["notebooks"].items()}
    run["gradebook"] = recorded(run["db_url"])


@pytest.fixture(scope="module")
def cohorts(request, tmp_path_factory, listener):
    """The SQLite cohort, the PostgreSQL cohort and the FIFO cohort, each graded by its own plain `nbgrader
    autograde` (ATTUNE_TEST_SECRET in its environment), all three at the same time (each under its own uid)."""
    postgres = request.getfixturevalue("postgres_url")
    runs: dict[str, dict] = {}
    for db in ("sqlite", "postgres", "fifo"):
        course = make_course(tmp_path_factory.mktemp(f"escapes-{db}"))
        db_url = postgres if db == "postgres" else f"sqlite:///{course / 'gradebook.db'}"
        pg_port = int(re.search(r":(\d+)/", postgres).group(1)) if db == "postgres" else 5432
        students = prepare(course, db, db_url, pg_port, listener, [FIFO] if db == "fifo" else ATTEMPTS)
        runs[db] = {"db": db, "course": course, "db_url": db_url, "students": students,
                    "before": snapshot(course), "home_before": home_files(), "heard_before": len(listener.heard),
                    "out": course.parent / "nbgrader.out", "err": course.parent / "nbgrader.err", "stalled": False}
    for run in runs.values():
        with run["out"].open("w") as out, run["err"].open("w") as err:
            run["process"] = subprocess.Popen(
                [sys.executable, "-m", "nbgrader", "autograde", EXERCISE], cwd=run["course"],
                env={**nbgrader_env(), "ATTUNE_TEST_SECRET": SECRET}, stdout=out, stderr=err,
                start_new_session=True)
        run["started"] = time.monotonic()
    pending, folders_before = set(runs), set(kernel_folders())
    while pending:
        for db in sorted(pending):
            run = runs[db]
            if run["process"].poll() is None:
                if time.monotonic() - run["started"] < (FIFO_SECONDS if db == "fifo" else 900):
                    continue
                run["stalled"] = True  # the nbgrader this fixture started, with everything it started
                os.killpg(run["process"].pid, signal.SIGKILL)
                run["process"].wait()
            finish(run)
            pending.discard(db)
        time.sleep(0.2)
    for run in runs.values():
        collect(run)
        run["heard"] = listener.heard[run["heard_before"]:]
        # The folder each kernel shared with the grader ends up owned by the kernel's uid: this cohort's own.
        # The grader should have removed them all; whatever is left is noted, then removed.
        run["leftovers"] = []
        for folder in sorted(set(kernel_folders()) - folders_before):
            with contextlib.suppress(OSError):
                if folder.stat().st_uid == UIDS[run["db"]]:
                    run["leftovers"].append(f"{folder}: {sorted(os.listdir(folder))}")
                    shutil.rmtree(folder)
    return runs


def kernel_folders() -> list[Path]:
    """The folders SandboxedKernelManager keeps for its kernels' connection files and logs
    (tempfile.mkdtemp(prefix="attune-kernel-"))."""
    return list(Path(tempfile.gettempdir()).glob("attune-kernel-*"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def graded(request, cohorts):
    run = cohorts[request.param]
    done, course = run["done"], run["course"]
    print(f"\n\n{run['db']}: nbgrader autograde exit {done.returncode} in {run['seconds']:.0f} s, "
          f"{len(run['students'])} submissions\n{'attempt':<24} | outcome\n{'-' * 24}-+-{'-' * 100}")
    for attempt in ATTEMPTS:
        print(f"{attempt.name:<24} | {outcome(run['said'][attempt.name], course)}")
    if request.param == "sqlite":
        fifo = cohorts["fifo"]
        stalled = f" -- nbgrader STALLED, killed after {FIFO_SECONDS} s" if fifo["stalled"] else ""
        print(f"{FIFO.name:<24} | {outcome(fifo['said'].get(FIFO.name, ''), fifo['course'])}{stalled}")
    return run


def test_the_corpus_is_large_enough_and_graded_between_two_honest_classmates():
    assert len(ATTEMPTS) >= 16 and len(set(NAMES)) == len(NAMES)
    assert all(BEFORE < name < AFTER for name in [*NAMES, FIFO.name])  # nbgrader grades in this order
    assert expected_total(BEFORE) < expected_total(AFTER) == sum(p.points for p in PARTS.values())


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
def test_it_ran_and_every_submission_was_graded(graded, attempt):
    done = graded["done"]
    missing = [s for s, text in graded["notebooks"].items() if text is None]
    ungraded = [s for s in graded["students"] if s not in graded["gradebook"]]
    assert done.returncode == 0 or not (missing or ungraded), (done.returncode, missing, ungraded, done.stderr[-3000:])
    assert not missing and not ungraded, (missing, ungraded)
    said = graded["said"][attempt.name]
    assert said.strip(), f"{attempt.name}: its answer cell printed nothing, so the attack may not have run"
    nb = json.loads(graded["notebooks"][attempt.name])
    assert nb["metadata"]["attune"]["graded"] == "executed"
    size = len(graded["notebooks"][attempt.name].encode())
    assert size < 2 * OUTPUT_MB * 2**20, f"{attempt.name}: autograded notebook of {size} bytes"


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
def test_nothing_outside_its_own_autograded_copy_changed(graded, attempt):
    course, db = graded["course"], graded["db"]
    after = snapshot(course)
    mark = marker(db, attempt.name).encode()
    own = f"submitted/{attempt.name}/"  # its notebook's source holds the marker
    touched = [p for p in after if not p.startswith(own) and not after[p].startswith(("dir", "link"))
               and mark in (course / p).read_bytes()]
    assert not touched, f"{attempt.name} wrote into {touched}"
    changed = sorted(p for p in set(graded["before"]) | set(after) if graded["before"].get(p) != after.get(p))
    assert not changed, f"changed, added or removed in the course folder: {changed}"
    for student in graded["students"]:  # every autograded copy holds what was submitted, nothing it left behind
        autograded = course / "autograded" / student / EXERCISE
        submitted = course / "submitted" / student / EXERCISE
        assert sorted(p.name for p in autograded.iterdir()) == sorted(p.name for p in submitted.iterdir()), student
        assert not any(p.is_symlink() for p in autograded.rglob("*")), student
        assert (autograded / "timestamp.txt").read_bytes() == (submitted / "timestamp.txt").read_bytes(), student
    for path, digest in graded["home_before"].items():
        assert (hashlib.sha256(Path(path).read_bytes()).hexdigest() if Path(path).is_file() else None) == digest, path


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
def test_every_trainees_total_is_what_the_answers_as_written_earn(graded, attempt):
    book = graded["gradebook"]
    for student in (attempt.name, BEFORE, AFTER):
        assert total(book[student]) == pytest.approx(expected_total(student), abs=1e-9), (student, book[student])
    for student in (BEFORE, AFTER):  # the honest ones: every row as nbgrader wrote it, nothing added by hand
        answers = correct if student == AFTER else partial
        for variable in PARTS:
            auto, manual, extra = book[student][f"score_{variable}"]
            assert (auto, manual, extra or 0.0) == (pytest.approx(points(variable, answers(variable))), None, 0.0)
    auto = {cell: row[0] for cell, row in book[attempt.name].items()}
    for variable in PARTS:
        assert auto[f"score_{variable}"] == pytest.approx(points(variable, partial(variable))), attempt.name


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
def test_nothing_it_started_is_still_running(graded, attempt):
    mark = marker(graded["db"], attempt.name)
    for key in ("running", "running_later"):
        assert not [p for p in graded[key] if mark in p], graded[key]
    assert not processes_mentioning(mark), "still running now"
    for key in ("written", "written_later"):
        assert not [p for p in graded[key] if mark in p], graded[key]


def test_the_grader_removed_every_kernel_folder(graded, cohorts):
    """Each kernel's folder (its connection file and kernel.log) must be gone once its notebook is graded, also when
    the kernel died (nbclient then calls cleanup_resources directly)."""
    fifo = cohorts["fifo"]  # (a stalled grader, killed by the fixture, cannot have removed its kernel's folder)
    leftovers = graded["leftovers"] + (fifo["leftovers"] if graded["db"] == "sqlite" and not fifo["stalled"] else [])
    assert not leftovers, f"left in {tempfile.gettempdir()} after grading: {leftovers}"


def test_no_sandbox_outlived_the_run(graded):
    # bwrap's command line names the course folder, and every attack's helper processes carry a marker
    assert not graded["running"] and not graded["running_later"], graded["running"] + graded["running_later"]
    assert not graded["written"] and not graded["written_later"], graded["written"] + graded["written_later"]


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=NAMES)
def test_no_secret_of_the_grader_reaches_a_notebook_or_the_network(graded, attempt):
    text = graded["notebooks"][attempt.name]
    assert SECRET not in text, f"{attempt.name}: the grader's environment reached the autograded notebook"
    assert KEY_TEXT not in graded["said"][attempt.name], f"{attempt.name}: printed the key"
    assert not [h for h in graded["heard"] if marker(graded["db"], attempt.name).encode() in h[1]]


def test_nothing_reached_the_listener(graded):
    assert not graded["heard"], f"connections reached the test's listener: {graded['heard']}"


def test_the_grader_log_shows_nothing_a_kernel_pointed_it_at(graded):
    """kernel-log-link: the grader reads the kernel's log file (as root) when the kernel ends and logs its end when
    it died ("the kernel's last words"); the kernel must not be able to point that read anywhere."""
    done = graded["done"]
    log = done.stdout + done.stderr
    assert SECRET not in log, [line[:300] for line in log.splitlines() if SECRET in line]
    tail = (graded["course"] / "solutions" / EXERCISE / "keys" / "amira-night-shifts.yaml").read_text().strip()[-80:]
    assert tail not in log, "the end of a key in solutions/ is in nbgrader's log"


def test_the_sandbox_limits_held(graded):
    said = graded["said"]
    for name in ("fill-disk", "fill-private-folder"):
        for place, megabytes in re.findall(r"WROTE (\S+) (\d+) MB", said[name]):
            assert int(megabytes) <= DISK_MB, f"{name}: {megabytes} MB written to {place} (disk_mb = {DISK_MB})"
    match = re.search(r"children started: (\d+)", said["fork-bomb"])
    assert match and int(match.group(1)) < PROCESSES, said["fork-bomb"]
    assert "MemoryError after" in said["memory"], said["memory"]
    assert "KernelStopped" in said["endless-loop-no-sigint"], said["endless-loop-no-sigint"]
    assert "Interrupt" in said["endless-loop"], said["endless-loop"]
    # 200 MB printed: the rest past output_mb is dropped, or the cell outlives its timeout and the kernel is ended
    assert "passed the grading limit" in said["huge-output"] or "KernelStopped" in said["huge-output"]


def test_a_kernel_cannot_stall_the_grader_through_its_log_file(cohorts):
    fifo = cohorts["fifo"]
    assert not fifo["stalled"], (f"nbgrader autograde had not finished after {FIFO_SECONDS} s: it waits for ever to "
                                 "open the FIFO the kernel left as kernel.log\n" + fifo["done"].stdout[-1000:]
                                 + fifo["done"].stderr[-1500:])
    book = fifo["gradebook"]
    assert total(book[FIFO.name]) == pytest.approx(expected_total(FIFO.name))
    assert total(book[AFTER]) == pytest.approx(expected_total(AFTER))
    assert not fifo["running"] and not fifo["running_later"]
