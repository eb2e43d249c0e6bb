"""Who is learning: a stable, anonymous id per learner, used to vary what each one sees (e.g. option order).

The id only has to be stable and differ between learners; it identifies no one and is never sent anywhere.
In order of precedence:

1. ``$ATTUNE_LEARNER``, so tests and instructors can pin it (e.g. to reproduce what one trainee saw).
2. A random id made on first use and kept in ``<Jupyter data dir>/attune/learner-id``. The data dir is per
   user (``~/.local/share/jupyter`` on Linux, or ``$JUPYTER_DATA_DIR``), so on a JupyterHub every trainee,
   with their own home, gets their own id, and it survives kernel restarts and new notebooks.
3. If that folder cannot be written (read-only home, odd container): a hash of the user name. Still stable
   and per user; the course must work without a writable home rather than fail.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets
from functools import cache
from pathlib import Path

ENV_VAR = "ATTUNE_LEARNER"
FILE_NAME = "learner-id"


def learner_id() -> str:
    """This learner's id: ``$ATTUNE_LEARNER`` if set, else the stored id (made once), else a user-name hash."""
    # The override is read on every call (cheap), so setting it in a running kernel takes effect at once.
    pinned = os.environ.get(ENV_VAR, "").strip()
    return pinned or _stored_or_user_id()


def id_file() -> Path:
    """Where the learner's id is kept (the folder honours ``$JUPYTER_DATA_DIR``)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "attune" / FILE_NAME


@cache  # one file read per process; the id never changes while a kernel runs
def _stored_or_user_id() -> str:
    try:
        return _stored_id(id_file())
    except OSError:
        return _user_id()


def _stored_id(path: Path) -> str:
    found = _read(path)
    if found:
        return found
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(secrets.token_hex(16) + "\n")
    try:
        # A hard link is created whole or not at all, and never replaces an existing file: when two kernels start
        # at once, the first id written wins for both, and no one reads a half-written file.
        os.link(temporary, path)
    except FileExistsError:
        if not _read(path):  # an empty or blank file left by an interrupted write: take its place
            os.replace(temporary, path)
    except OSError:  # a file system without hard links
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    found = _read(path)
    if not found:
        raise OSError(f"{path} could not be written")
    return found


def _read(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").split()
    except (FileNotFoundError, UnicodeDecodeError):
        return ""
    return lines[0] if lines else ""


def _user_id() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no $USER and no passwd entry (arbitrary container uid): still never fail
        user = "unknown"
    return "user-" + hashlib.sha256(user.encode()).hexdigest()[:32]
