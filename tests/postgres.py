"""A real, throwaway PostgreSQL server on 127.0.0.1 for tests that need nbgrader's gradebook on PostgreSQL.

A test module uses the session fixture by importing it, the way the browser tests import labdriver
(tests/ is on sys.path through pytest's rootdir-less "prepend" import mode; it is not a package):

    from postgres import postgres_url  # noqa: F401

    def test_something(postgres_url: str) -> None:  # noqa: F811
        ...

Each module that imports the fixture gets its own server (pytest registers an imported fixture per module).
Needs Debian's `postgresql` package (binaries in /usr/lib/postgresql/<version>/bin) and psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

USER = "postgres"  # the server's superuser name, and the system user that runs it when we are root
DATABASE = "attune"


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, else `pg_config --bindir`, else None."""

    def usable(d: Path) -> bool:
        return (d / "initdb").is_file() and (d / "pg_ctl").is_file()

    def version(d: Path) -> tuple[int, ...]:
        parts = d.parent.name.split(".")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (-1,)

    found = sorted((d for d in Path("/usr/lib/postgresql").glob("*/bin") if usable(d)), key=version)
    if found:
        return found[-1]
    if pg_config := shutil.which("pg_config"):  # e.g. a source build, or Debian's libpq-dev pointing at a server
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            d = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
            if usable(d):
                return d
    return None


def _free_port() -> int:
    # The OS picks a free port; there is a small window before postgres binds it, acceptable for tests.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _alive(pid: int) -> bool:
    # A stopped postmaster is an orphan that init reaps a moment later: a zombie counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@contextlib.contextmanager
def throwaway_postgres(workdir: Path) -> Iterator[str]:
    """Start a private PostgreSQL server, yield a SQLAlchemy URL to its database "attune", always stop it."""
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("No PostgreSQL server binaries (initdb, pg_ctl) found: apt-get install postgresql")

    as_root = os.geteuid() == 0
    if as_root:
        # initdb and postgres refuse to run as root: run them as Debian's `postgres` system user. pytest's
        # tmp_path under /tmp/pytest-of-root/ (mode 0700) is out of that user's reach, so the server gets a
        # fresh folder under the system temp dir (sticky, world-traversable) that is removed afterwards.
        runuser = shutil.which("runuser")
        if runuser is None or subprocess.run(["id", "-u", USER], capture_output=True).returncode != 0:
            raise RuntimeError(f"As root this needs runuser and the {USER!r} system user: apt-get install postgresql")
        base = Path(tempfile.mkdtemp(prefix="attune-pg-"))
        base.chmod(0o755)
        shutil.chown(base, USER, USER)
        prefix = [runuser, "-u", USER, "--"]
        if subprocess.run([*prefix, "test", "-w", str(base)], cwd="/").returncode != 0:
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"The {USER!r} user cannot write {base}; check the modes of its parent folders")
    else:
        base = workdir / "pg"
        base.mkdir(parents=True, exist_ok=True)
        prefix = []
    data, sockdir, log = base / "data", base / "sock", base / "server.log"

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        # cwd=base: the postgres user may not be allowed into the caller's working directory.
        return subprocess.run([*prefix, *map(str, args)], cwd=base, capture_output=True, text=True)

    port = _free_port()
    pid: int | None = None
    try:
        init = run(bindir / "initdb", "-D", data, "-U", USER, "--auth=trust", "--encoding=UTF8", "--locale=C",
                   "--no-sync", "--no-instructions")
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}{init.stderr}")
        sockdir.mkdir()
        if as_root:
            shutil.chown(sockdir, USER, USER)
        # Settings go into postgresql.conf rather than pg_ctl -o, so no shell quoting of paths is involved.
        # fsync/synchronous_commit/full_page_writes off: durability is worthless for a throwaway server.
        settings = {"listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": str(sockdir),
                    "max_connections": 100, "fsync": "off", "synchronous_commit": "off",
                    "full_page_writes": "off"}
        with (data / "postgresql.conf").open("a") as conf:
            for key, value in settings.items():
                quoted = "'" + str(value).replace("'", "''") + "'" if isinstance(value, str) else value
                conf.write(f"{key} = {quoted}\n")

        start = run(bindir / "pg_ctl", "start", "-D", data, "-l", log, "-w", "-t", "60")
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((data / "postmaster.pid").read_text().split("\n", 1)[0])
        if start.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start:\n{start.stdout}{start.stderr}\nserver log:\n"
                               f"{_log_tail(log)}")

        # pg_ctl -w already waited for "ready"; retry briefly anyway so a slow first TCP accept is not a failure.
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres",
                                     autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
                break
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL does not accept connections: {e}\nserver log:\n"
                                       f"{_log_tail(log)}") from e
                time.sleep(0.2)

        yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if data.exists():
            run(bindir / "pg_ctl", "stop", "-D", data, "-m", "immediate", "-w", "-t", "30")
        if pid is not None and _alive(pid):  # pg_ctl could not stop it: do not leave a server behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if as_root:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLAlchemy URL (psycopg 3) of database "attune" on a throwaway PostgreSQL server, for the whole session."""
    with throwaway_postgres(tmp_path_factory.mktemp("postgres")) as url:
        yield url
