"""A course folder's configuration, read in one place: its nbgrader_config.py, as nbgrader itself reads it.

Every `attune` command that touches the gradebook takes the gradebook URL and the course id from here, so the
instructor configures them once (``c.CourseDirectory.db_url``, ``c.CourseDirectory.course_id``), and ``--db URL``
/ ``--course-id ID`` override them the same way on every command. nbgrader's default gradebook is
``sqlite:///<root>/gradebook.db``.

Imports stay light here: nbgrader and traitlets load only when a configuration is read. Whether the gradebook
the configuration names exists is autograder/adapters/gradebook.py's check_gradebook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from course.errors import AttuneError

CONFIG_FILE = "nbgrader_config.py"
# The command-line flags, with one help text, for every verb that reads the gradebook (autograder/cli.py).
DB_HELP = f"gradebook URL, e.g. postgresql://user@host/db (default: c.CourseDirectory.db_url in {CONFIG_FILE}, " \
          "else sqlite:///<course folder>/gradebook.db)"
COURSE_ID_HELP = f"nbgrader course id in the gradebook (default: c.CourseDirectory.course_id in {CONFIG_FILE})"


class ConfigError(AttuneError, ValueError):
    """The course folder's configuration cannot be read, or names a gradebook that is not there; the message
    names the file or URL and what to do. An AttuneError, so `attune` shows it as a message wherever it rises."""


@dataclass(frozen=True)
class CourseConfig:
    """Where a course's things are, as its nbgrader_config.py (nbgrader's CourseDirectory) says, after overrides.
    Folders are relative to ``root``, as nbgrader has them."""

    root: Path
    db_url: str
    course_id: str
    source: str
    release: str
    submitted: str
    autograded: str
    feedback: str
    ignore: tuple[str, ...]
    late_penalties: bool = False  # a late-submission plugin is configured (only executed grading applies it)
    sandbox: tuple[tuple[str, object], ...] = ()  # the c.GradingSandbox settings (autograder/adapters/sandbox.py)

    @classmethod
    def load(cls, root: Path, db_url: str | None = None, course_id: str | None = None) -> CourseConfig:
        """load_config(root, db_url=..., course_id=...)."""
        return load_config(root, db_url=db_url, course_id=course_id)

    @property
    def shown_url(self) -> str:
        """The gradebook URL as messages show it: any password masked."""
        return masked_url(self.db_url)

    def submitted_dir(self, student: str, assignment: str) -> Path:
        return self.root / self.submitted / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.root / self.autograded / student / assignment

    def students(self, assignment: str) -> list[str]:
        """Every trainee with a submission folder for this assignment."""
        folder = self.root / self.submitted
        return sorted(p.parent.name for p in folder.glob(f"*/{assignment}") if p.is_dir())


def load_config(root: Path, *, db_url: str | None = None, course_id: str | None = None) -> CourseConfig:
    """Read ``root``/nbgrader_config.py as nbgrader does; ``db_url`` and ``course_id`` (the command-line flags)
    override the file. ConfigError if the file is missing or cannot be run."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    root = Path(root).resolve()
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"no {CONFIG_FILE} in {root}: this is not a course folder. Run the command inside the "
                          f"course folder (or pass --course FOLDER), or create {path} with the course's nbgrader "
                          "settings (c.CourseDirectory.course_id, and c.CourseDirectory.db_url for a gradebook "
                          "other than SQLite).")
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except ConfigFileNotFound as err:  # unreadable (permissions) although it exists
        raise ConfigError(f"{path} cannot be read ({err}); check its permissions.") from None
    except SyntaxError as err:
        raise ConfigError(f"{path}, line {err.lineno}: {err.msg}. Fix that line of the course's nbgrader "
                          "configuration and run the command again.") from None
    except Exception as err:  # the file is Python: running it can fail in any way (a bad import, a NameError, ...)
        import traceback

        # The line of the config file itself that failed (the error may come from a module it imports).
        lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
        where = f"{path}, line {lines[-1]}" if lines else str(path)
        raise ConfigError(f"{where} failed when run ({type(err).__name__}: {err}). Fix the course's nbgrader "
                          "configuration and run the command again.") from None
    coursedir = CourseDirectory(config=config)
    # The folder the file is in is the course root (nbgrader's default is the working directory, and Attune's
    # config sets it to its own folder anyway); db_url's default is computed from it, so set it first.
    coursedir.root = str(root)
    url = db_url or coursedir.db_url
    # nbgrader strips whitespace from the course id (its validator); an unset one is "", as nbgrader has it.
    course = (course_id if course_id is not None else coursedir.course_id).strip()
    late = "plugin_class" in config.get("AssignLatePenalties", {})
    sandbox = tuple(sorted(config.get("GradingSandbox", {}).items()))
    return CourseConfig(root, url, course, coursedir.source_directory, coursedir.release_directory,
                        coursedir.submitted_directory, coursedir.autograded_directory, coursedir.feedback_directory,
                        tuple(coursedir.ignore), late, sandbox)


def masked_url(url: str) -> str:
    """``url`` with any password hidden, for messages (a PostgreSQL URL may carry one)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@", 1)[-1] if "@" in url else url  # unparsable: show only what follows any credentials


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (relative paths from the working directory, as SQLAlchemy opens them); None
    for another database or an in-memory SQLite one."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()
