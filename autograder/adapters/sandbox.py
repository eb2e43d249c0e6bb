"""The sandbox every grading kernel runs in: bubblewrap (``bwrap``) around ``python -m ipykernel_launcher``.

Executed grading runs each submission's code in a kernel; without a sandbox that code has the grader's rights (the
gradebook, solutions/, classmates' notebooks, the course's nbgrader_config.py, the hub API on 127.0.0.1). Inside,
the kernel sees the system and the Python environment read-only, a copy of its own submission folder on a small
tmpfs (its only writable place, with a private /tmp), and nothing else of the course; it has no network at all (its
own empty loopback), its own process, IPC and UTS namespaces, limits on memory, processes and file sizes, and a wall
clock kept by the grader. It talks to the grader over Unix sockets in its own /tmp (``transport="ipc"``), which the
grader reaches through the sandbox's root in /proc; no folder of the grader's disk is writable inside. Whatever it
writes is gone when it ends: only the executed notebook comes back.

Run as root, the kernel also drops to an unprivileged uid (``GradingSandbox.uid``): root's process limits do not
apply to root, and a fork bomb must meet them. Run as an ordinary user (the hub's instructors), bwrap makes a user
namespace and the limits apply to that user's processes inside it.

Plugged in through nbgrader's configuration only (autograder/templates/nbgrader_defaults.py): ResilientExecute
starts its kernels with SandboxedKernelManager, and SandboxCheckedExporter stops `nbgrader autograde` (and
formgrader's Autograde) before the first submission when the sandbox cannot start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbconvert.exporters import NotebookExporter
from traitlets import Bool, Integer, Unicode
from traitlets.config import Configurable

from course.errors import AttuneError

# The system folders a kernel needs, read-only; /etc only in part (its other files may hold the hub's secrets).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl", "ca-certificates", "fonts",
        "localtime", "mime.types", "nsswitch.conf", "passwd", "group", "hosts", "matplotlibrc")
_SUBMISSION_IN = "/attune/submission"  # the submission folder, read-only; the kernel works on a copy of it
CONNECTION_FILE = "/attune/kernel.json"  # the kernel's connection file, read-only
_SOCKETS = "/tmp/.attune-kernel"  # where the kernel makes its sockets, in its own /tmp


class SandboxError(AttuneError):
    """The sandbox cannot start here, so no submission's code may run."""


class GradingSandbox(Configurable):
    """How grading kernels are sandboxed; set in the course's nbgrader_config.py as ``c.GradingSandbox.<name>``."""

    run_unsandboxed = Bool(False, help=(
        "Run trainees' code with the grader's own rights, without the sandbox. Only where bubblewrap cannot run and "
        "you accept that a submission can then change the gradebook, the course folder and classmates' work; "
        "`attune report` says the cohort was graded unsandboxed. `attune grade --static` runs nothing instead.")
    ).tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap program (Debian: apt-get install bubblewrap).").tag(config=True)
    memory_mb = Integer(2048, help="Address space of each process in the sandbox, MiB.").tag(config=True)
    processes = Integer(128, help="Processes and threads the sandbox may run at once.").tag(config=True)
    disk_mb = Integer(256, help="Size of each writable place (the submission's copy, /tmp), MiB.").tag(config=True)
    wall_seconds = Integer(600, help="A notebook's kernel is killed after this many seconds.").tag(config=True)
    output_mb = Integer(16, help="Outputs kept from one notebook's run, MiB; the rest is dropped.").tag(config=True)
    uid = Integer(65534, help="The unprivileged user (and group) a kernel runs as when grading runs as root.").tag(
        config=True)

    def command(self, kernel_cmd: list[str], workdir: str, source: str, connection_file: str | None = None
                ) -> list[str]:
        """The bwrap command line that runs ``kernel_cmd`` in ``workdir``, a fresh copy of ``source``."""
        return sandbox_command(self, kernel_cmd, workdir, source, connection_file)

    def check(self) -> str:
        """Start one sandboxed Python that imports the kernel; returns "" if it ran, else why not (and what to do)."""
        return _probe(self.bwrap, self.uid, self.memory_mb, self.processes)

    def refusal(self) -> str:
        """Why executed grading may not run here ("" if it may): the sandbox cannot start and the course did not
        opt out by name."""
        return "" if self.run_unsandboxed else self.check()


def _limits(settings: GradingSandbox) -> list[str]:
    """Set inside the sandbox, after the user namespace is made, so that only the sandbox's processes count."""
    mib = 1024 * 1024
    return ["prlimit", f"--as={settings.memory_mb * mib}", f"--nproc={settings.processes}",
            f"--fsize={settings.disk_mb * mib}", "--core=0", "--nofile=1024", "--"]


def _python_folders() -> list[str]:
    """The interpreter, its environment and Attune's own packages (an editable install points into the
    repository: only its package folders, never its root, which holds solutions/)."""
    import course.errors

    # Found from modules' files, not the packages': a folder named course/ in the working folder makes `course` a
    # namespace package there (no __file__), spanning that folder and the real one.
    packages = (str(Path(__file__).resolve().parents[1]), os.path.dirname(os.path.abspath(course.errors.__file__)))
    found: list[str] = []
    for folder in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix,
                   os.path.dirname(os.path.realpath(sys.executable)), *packages):
        real = os.path.realpath(folder)
        for path in {folder, real}:
            if not any(path == f or path.startswith(f.rstrip("/") + "/") for f in found):
                found = [f for f in found if not f.startswith(path.rstrip("/") + "/")] + [path]
    return found


def _system_binds() -> list[str]:
    args: list[str] = []
    for folder in _SYSTEM:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def sandbox_command(settings: GradingSandbox, kernel_cmd: list[str], workdir: str, source: str,
                    connection_file: str | None = None) -> list[str]:
    """bwrap's arguments, in the order its mounts must be made (a tmpfs hides what was bound below it before).
    The connection file is bound read-only at CONNECTION_FILE and ``kernel_cmd`` is given that path instead: no
    folder of the grader's disk is writable inside (the kernel's sockets live in its own size-limited /tmp)."""
    as_root = os.geteuid() == 0
    mib = 1024 * 1024
    args = [_bwrap(settings.bwrap), "--die-with-parent", "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading"]
    if as_root:  # set up as root, then drop to settings.uid before anything of the submission runs
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"]
    else:
        args += ["--unshare-user"]
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(settings.disk_mb * mib), "--tmpfs", "/tmp"]
    made = {"/", "/tmp", "/usr", "/proc", "/dev", "/etc"}
    for folder in _python_folders():
        args += [*_parents(folder, made), "--ro-bind", folder, folder]
    args += [*_parents(_SUBMISSION_IN, made), "--ro-bind", source, _SUBMISSION_IN]
    args += [*_parents(workdir, made), "--size", str(settings.disk_mb * mib), "--tmpfs", workdir]
    if connection_file:
        args += ["--ro-bind", connection_file, CONNECTION_FILE]
        kernel_cmd = [CONNECTION_FILE if arg == connection_file else arg for arg in kernel_cmd]
    # The sandbox's own root is a tmpfs without a size: read-only once everything is mounted on it.
    args += ["--remount-ro", "/", "--chdir", workdir, "--clearenv"]
    environment = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
                   "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
                   "PYTHONNOUSERSITE": "1", "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION", "autograde")}
    for name, value in environment.items():
        args += ["--setenv", name, value]
    limits = _limits(settings)
    if as_root:
        uid = str(settings.uid)
        prelude = (f'cp -R {_SUBMISSION_IN}/. . && chown -R {uid}:{uid} . && chown {uid}:{uid} /tmp && '
                   f'chmod 1777 /tmp && exec setpriv --reuid={uid} --regid={uid} --clear-groups -- "$@"')
    else:
        prelude = f'cp -R {_SUBMISSION_IN}/. . && exec "$@"'
    return [*args, "--", "/bin/sh", "-c", prelude, "attune-sandbox", *limits, *kernel_cmd]


def _parents(path: str, made: set[str]) -> list[str]:
    """bwrap makes the missing parents of a mount point private (0700): readable ones, for the dropped uid."""
    args: list[str] = []
    for parent in reversed(Path(path).parents):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _bwrap(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SandboxError(_missing(name))
    return found


def _missing(name: str) -> str:
    return (f"executed grading runs every submission in a sandbox, and its program {name!r} is not installed. "
            "Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap), or grade without running "
            "anything: attune grade <exercise> --static. Nothing was graded.")


@cache
def _probe(bwrap: str, uid: int, memory_mb: int, processes: int) -> str:
    if sys.platform != "linux":
        return (f"executed grading runs every submission in a sandbox, which needs Linux (this is {sys.platform}). "
                "Grade without running anything: attune grade <exercise> --static. Nothing was graded.")
    if shutil.which(bwrap) is None:
        return _missing(bwrap)
    settings = GradingSandbox(bwrap=bwrap, uid=uid, memory_mb=memory_mb, processes=processes)
    with tempfile.TemporaryDirectory(prefix="attune-probe-") as scratch:
        source = os.path.join(scratch, "in")
        os.mkdir(source)
        # Python with the environment and Attune's package in view: what a kernel needs from the sandbox.
        command = settings.command([sys.executable, "-c", "import autograder, ipykernel"],
                                   os.path.join(scratch, "work"), source)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=_BWRAP_ENV)
        except (OSError, subprocess.TimeoutExpired) as err:
            done = subprocess.CompletedProcess(command, 1, "", str(err))
    if done.returncode == 0:
        return ""
    said = (done.stderr or done.stdout).strip().splitlines()
    return (f"executed grading runs every submission in a sandbox, and the sandbox did not start here "
            f"({said[-1] if said else f'bwrap exited with {done.returncode}'}). Bubblewrap needs user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1, or a container that allows them). Or grade without running "
            "anything: attune grade <exercise> --static. Nothing was graded.")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in the sandbox (see the module's text); otherwise jupyter_client's own.

    The kernel makes its IPC sockets in its own /tmp; the grader reaches them through the sandbox's root,
    /proc/<sandbox pid>/root/tmp/. The connection file and the kernel's log stay in a folder only the grader can
    open, so nothing of the grader's disk is writable from inside."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sandbox = GradingSandbox(parent=self)
        self._private = tempfile.mkdtemp(prefix="attune-kernel-")  # mode 0700: the grader's alone
        self.transport = "ipc"
        self.ip = _SOCKETS  # as the kernel sees it (written into the connection file); the grader's path follows
        self.connection_file = os.path.join(self._private, "kernel.json")
        self._watchdog: threading.Timer | None = None
        self._last_words = ""

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        refusal = self.sandbox.check()
        if refusal:
            raise SandboxError(refusal)
        workdir = os.path.abspath(kw.pop("cwd", None) or os.getcwd())
        kw.pop("env", None)  # the grader's environment stays out: bwrap's own would show in the sandbox's /proc/1
        if os.geteuid() == 0:  # the kernel runs as the unprivileged uid and must read its connection file
            os.chown(self.connection_file, self.sandbox.uid, self.sandbox.uid)
        command = self.sandbox.command(list(kernel_cmd), workdir, workdir, self.connection_file)
        # SIGINT to bwrap's process group would end bwrap and with it the kernel: interrupt by message instead.
        self.kernel_spec.interrupt_mode = "message"
        # The kernel's own stdout and stderr would reach the grader's terminal and logs (where Attune counts graded
        # notebooks): they go to a file that is read only when the kernel fails.
        with open(os.path.join(self._private, "kernel.log"), "wb") as log:
            kw.update(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
            await super()._async_launch_kernel(command, env=dict(_BWRAP_ENV), cwd=self._private, **kw)
        process = self.provisioner.process  # type: ignore[union-attr]
        self.ip = f"/proc/{_sandbox_pid(process.pid)}/root{_SOCKETS}"
        if self.sandbox.wall_seconds > 0:
            self._watchdog = threading.Timer(self.sandbox.wall_seconds, _kill, args=(process,))
            self._watchdog.daemon = True
            self._watchdog.start()

    def kernel_log(self, limit: int = 2000) -> str:
        """The end of what the kernel (and the sandbox around it) printed: why a kernel did not start or died."""
        try:
            with open(os.path.join(self._private, "kernel.log"), "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - limit))
                self._last_words = log.read().decode("utf-8", "replace")
        except OSError:
            pass
        return self._last_words

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self.kernel_log()  # kept for the error message, which is written after this
            shutil.rmtree(self._private, ignore_errors=True)
        self.ip = _SOCKETS

    # jupyter_client binds the public name to its own coroutine, which nbclient calls when a kernel died.
    cleanup_resources = _async_cleanup_resources


# bwrap itself starts with this environment, not the grader's (the sandbox's pid 1 is bwrap, and its /proc shows it).
_BWRAP_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _sandbox_pid(bwrap_pid: int, seconds: float = 10.0) -> int:
    """The pid of bwrap's child, which lives in the sandbox's namespaces (pid 1 inside): its /proc root is the
    sandbox's root."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{bwrap_pid}/task/{bwrap_pid}/children") as found:
                children = found.read().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.005)
    raise SandboxError(f"the grading sandbox (bwrap, pid {bwrap_pid}) did not start its kernel within {seconds} s")


def _kill(process: subprocess.Popen) -> None:
    """The wall clock ran out: kill bwrap, which takes every process of the sandbox with it (--die-with-parent and
    the end of its pid namespace)."""
    process.kill()


class SandboxCheckedExporter(NotebookExporter):
    """nbgrader's exporter for autograde, made once per run before any submission: if executed grading would run
    unsandboxed without the instructor having said so, the run stops here, saying why and what to do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = GradingSandbox(parent=self)
        if settings.run_unsandboxed:
            self.log.warning("Grading WITHOUT the sandbox (c.GradingSandbox.run_unsandboxed = True): trainees' code "
                             "runs with your rights.")
        refusal = settings.refusal()
        if refusal:
            from nbgrader.converters.base import NbGraderException

            self.log.error("Autograde stopped: %s", refusal)
            raise NbGraderException(refusal)


def kernel_manager_class(config: Any) -> type:
    """The kernel manager ResilientExecute uses: the sandboxed one, unless the course opted out by name."""
    if GradingSandbox(config=config).run_unsandboxed:
        return AsyncKernelManager
    return SandboxedKernelManager
