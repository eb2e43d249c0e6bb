"""A throwaway JupyterHub course, set up with the project's own recipe (deploy/jupyterhub/), for the end-to-end test.

Everything it makes carries one random suffix: Unix users and groups, the shared environment (/opt), the hub's
folder and the exchange (/srv). `hub_course` yields a running hub and removes all of it afterwards, also when the
test fails: every process it started, and every process of its users, is stopped by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "deploy" / "jupyterhub"


def require_root() -> None:
    if os.geteuid() == 0:
        return
    if os.environ.get("CI"):
        pytest.fail("the JupyterHub end-to-end test creates Unix users and must run as root in CI")
    pytest.skip("needs root (creates Unix users, runs JupyterHub's LocalProcessSpawner); CI runs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Response:
    status: int
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class HubCourse:
    url: str
    admin_token: str
    prefix: Path
    hub_dir: Path
    exchange: Path
    instructor: str
    trainees: list[str]
    passwords: dict[str, str]
    course_dir: Path
    log: Path
    hub_port: int = 0          # the hub's own API on 127.0.0.1 (course.toml's hub_port); the proxy serves `url`
    formgrader_port: int = 0   # the formgrader service on 127.0.0.1
    tokens: dict[str, str] = field(default_factory=dict)

    # -- HTTP through the hub's proxy ---------------------------------------------------------------------------
    def request(self, method: str, path: str, token: str | None = None, data: dict | None = None,
                form: dict | None = None, body: bytes | None = None) -> Response:
        headers = {"Authorization": f"token {token or self.admin_token}"}
        if data is not None:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=300) as r:
                return Response(r.status, r.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, err.read())

    def api(self, method: str, path: str, **kw) -> Response:
        return self.request(method, "/hub/api" + path, **kw)

    def start_server(self, user: str) -> None:
        response = self.api("POST", f"/users/{user}/server")
        assert response.status in (201, 202, 400), (user, response)  # 400: already running
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            server = self.api("GET", f"/users/{user}").json()["servers"].get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise TimeoutError(f"{user}'s server did not become ready:\n{self.log.read_text()[-4000:]}")

    def token_for(self, user: str) -> str:
        if user not in self.tokens:
            response = self.api("POST", f"/users/{user}/tokens", data={"note": "attune end-to-end test"})
            assert response.status == 201, response
            self.tokens[user] = response.json()["token"]
        return self.tokens[user]

    # -- commands as a course user --------------------------------------------------------------------------------
    def run_as(self, user: str, args: list[str], cwd: str | Path | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
        home = pwd.getpwnam(user).pw_dir
        env = ["env", "-i", f"HOME={home}", f"USER={user}", f"PATH={self.prefix}/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
        return _run(["runuser", "-u", user, "--", *env, *args], cwd=cwd or home, check=check)


def _run(args: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kw)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} -> {result.returncode}\n{result.stdout[-4000:]}\n"
                             f"{result.stderr[-4000:]}")
    return result


def processes(*, users: Sequence[str] = (), running: Sequence[str | Path] = ()) -> list[int]:
    """PIDs (not this process) owned by one of ``users`` or whose command line names one of ``running`` (the proxy
    runs as root, so users alone miss it)."""
    uids = set()
    for user in users:
        with contextlib.suppress(KeyError):
            uids.add(pwd.getpwnam(user).pw_uid)
    marks = [str(m).encode() for m in running]
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}").st_uid in uids or any(
                        m in Path(f"/proc/{entry}/cmdline").read_bytes() for m in marks):
                    found.append(int(entry))
    return found


def _stop(pids: list[int], grace: float = 15) -> None:
    """SIGTERM each PID, wait up to ``grace`` seconds, then SIGKILL what is left."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            return False
    return True


@contextlib.contextmanager
def hub_course(trainees: int = 4) -> Iterator[HubCourse]:
    """Install the recipe under fresh names, add the users, start the hub; stop and remove everything after."""
    require_root()
    tag = secrets.token_hex(3)
    instructor = f"ati{tag}"
    names = [f"att{tag}{i}" for i in range(1, trainees + 1)]
    base = Path(f"/srv/attune-e2e-{tag}")
    prefix, hub_dir, exchange = Path(f"/opt/attune-e2e-{tag}"), base / "hub", base / "exchange"
    course_dir = Path(f"/home/{instructor}/attune")
    port = free_port()
    toml = (RECIPE / "course.toml").read_text()
    values = {"instructor": instructor, "trainee_group": f"atttrainees{tag}", "instructor_group": f"attinstr{tag}",
              "prefix": str(prefix), "course_dir": str(course_dir), "exchange": str(exchange),
              "bind_url": f"http://127.0.0.1:{port}", "hub_port": free_port(), "proxy_api_port": free_port(),
              "formgrader_port": free_port()}
    lines = []
    for line in toml.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in values and not line.startswith("#"):
            value = values[key]
            line = f"{key} = {json.dumps(value)}"
        lines.append(line)
    base.mkdir(mode=0o755)
    config = base / "course.toml"
    config.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "ATTUNE_HUB_DIR": str(hub_dir)}
    admin_token = secrets.token_hex(24)
    passwords = {user: secrets.token_urlsafe(12) for user in [instructor, *names]}
    log = hub_dir / "jupyterhub.log"  # in the hub's private folder
    hub: subprocess.Popen | None = None
    try:
        _run([str(RECIPE / "install.sh"), str(config)], env=env)
        _run([str(RECIPE / "add-user.sh"), "--instructor", instructor], env=env)
        _run([str(RECIPE / "add-user.sh"), *names], env=env)
        _run(["chpasswd"], input="".join(f"{u}:{p}\n" for u, p in passwords.items()))
        with open(log, "w") as out:
            hub = subprocess.Popen([str(prefix / "bin" / "jupyterhub"), "-f", str(hub_dir / "jupyterhub_config.py")],
                                   cwd=hub_dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**env, "ATTUNE_HUB_ADMIN_TOKEN": admin_token,
                                        "PATH": f"{prefix}/bin:/usr/bin:/bin"})
        course = HubCourse(f"http://127.0.0.1:{port}", admin_token, prefix, hub_dir, exchange, instructor, names,
                           passwords, course_dir, log, hub_port=values["hub_port"],
                           formgrader_port=values["formgrader_port"])
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(OSError):
                if course.api("GET", "/").status == 200:
                    break
            if hub.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterHub did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield course
    finally:
        pids = []
        if hub is not None:
            pids.append(hub.pid)
            proxy_pid = hub_dir / "jupyterhub-proxy.pid"
            if proxy_pid.exists():
                pids.append(int(proxy_pid.read_text().strip()))
        # The hub stops its servers, the proxy and formgrader when it gets SIGTERM; what outlives it (or everything,
        # if the hub never started) is stopped by PID below: every process of the course's users.
        _stop(pids)
        if hub is not None:
            hub.wait(timeout=30)
        users = [instructor, *names]
        _stop(processes(users=users, running=[prefix, hub_dir]), grace=5)
        deadline = time.monotonic() + 10  # SIGKILLed processes take a moment to leave /proc; zombies do not count
        while (left := [p for p in processes(users=users, running=[prefix, hub_dir]) if _alive(p)]) and \
                time.monotonic() < deadline:
            _stop(left, grace=1)  # one started meanwhile (a kernel, a restarted server)
        for user in users:
            subprocess.run(["userdel", "-r", user], capture_output=True)
        for group in (values["trainee_group"], values["instructor_group"]):
            subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(prefix, ignore_errors=True)
        if left and sys.exc_info()[0] is None:
            raise RuntimeError(f"processes of the test hub outlived SIGTERM and SIGKILL: {left}")
