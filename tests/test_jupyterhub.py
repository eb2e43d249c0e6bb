"""A whole cohort on a real JupyterHub, set up with the project's recipe (deploy/jupyterhub/), end to end.

Real Unix users (an instructor and four trainees), JupyterHub with its Node proxy on 127.0.0.1, servers started
through the hub's REST API, formgrader as a hub service. The instructor releases, collects and releases feedback
through formgrader's API and grades with the nbgrader and attune command lines; trainees fetch, submit and fetch
feedback through their own servers. One trainee codes with the form in JupyterLab, in headless Chromium, logged in
through the hub's login page; the others' notebooks are written through their servers' contents API. A fourth
trainee submits a sabotaged notebook as someone else, with a cell that attacks the course when executed grading runs
it: it reports what it could see and reach, which shows the grading sandbox (autograder/adapters/sandbox.py) at work
for the non-root instructor, under `nbgrader autograde`, formgrader's Autograde and `attune grade`. The isolation
table (shared notes, jupyterhub.md) is measured by running each attempt as a trainee.
"""

from __future__ import annotations

import copy
import csv
import json
import random
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hubdriver import HubCourse, hub_course, processes
from labdriver import CHROMIUM, CHROMIUM_ARGS, Lab, require_chromium, wait_for_file

from autograder.core.literals import answers_in_notebook
from autograder.core.scoring import score_items
from autograder.instructor.cohort import gradebook_scores, graded_parts
from course.parts import load_part

pytestmark = [pytest.mark.hub, pytest.mark.browser, pytest.mark.nbgrader]

ROOT = Path(__file__).resolve().parent.parent
EXERCISE, NOTEBOOK = "ex01", "hearing-the-concern.ipynb"
COURSE = {"course_id": "attune", "assignment_id": EXERCISE}
# The intruder's cell, run by executed grading with the grader's rights unless the sandbox holds: it copies the
# instructor's solutions into the exchange, tries the gradebook and the hub, and prints what it saw (PROBE, as JSON)
# into its own output, which the autograded notebook keeps. `where` (its first line) names the paths and the hub.
PROBE = "ATTUNE-PROBE "
LEAK_CELL = """import glob, json, os, pwd, shutil, socket, urllib.error, urllib.request
seen = {"uid": os.getuid(), "euid": os.geteuid(), "user": pwd.getpwuid(os.geteuid()).pw_name,
        "hostname": socket.gethostname(), "cwd": os.getcwd()}
seen["solutions"] = glob.glob("/home/*/attune/solutions/ex01/*.ipynb")
for found in seen["solutions"]:
    try:
        shutil.copy(found, os.path.join(where["exchange"], "leak-" + where["user"] + ".ipynb"))
    except OSError as err:
        seen["copy"] = repr(err)
seen["exchange"] = os.path.isdir(where["exchange"])
seen["course"] = sorted(os.listdir(where["course"])) if os.path.isdir(where["course"]) else None
seen["gradebook"] = os.path.exists(where["gradebook"])
try:
    with open(where["gradebook"], "r+b"):  # opened for writing, nothing written
        seen["gradebook_write"] = "opened for writing"
except OSError as err:
    seen["gradebook_write"] = repr(err)
seen["hub"] = {}
for name, url in where["urls"].items():
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            seen["hub"][name] = "HTTP %d" % response.status
    except urllib.error.HTTPError as err:
        seen["hub"][name] = "HTTP %d" % err.code
    except OSError as err:
        seen["hub"][name] = repr(getattr(err, "reason", err))
print("ATTUNE-PROBE " + json.dumps(seen))
"""


@dataclass
class CohortRun:
    hub: HubCourse
    trainees: dict[str, str]                  # role -> user name
    expected: dict[str, dict[str, float]]     # user -> grade id -> points
    grades: dict[str, dict[str, float]] = field(default_factory=dict)
    static_grades: dict[str, dict[str, float]] = field(default_factory=dict)
    impersonation: int | None = None
    second_collect_log: str = ""
    kept_unchanged: bool = False
    refused: list[dict] = field(default_factory=list)
    lessons: dict[str, list] = field(default_factory=dict)
    lesson_run: int | None = None
    refused_csv: list[dict] = field(default_factory=list)
    collect_log: str = ""
    compare_output: str = ""
    feedback: dict[str, str] = field(default_factory=dict)
    isolation: list[tuple[str, str, str]] = field(default_factory=list)  # row, outcome, detail
    report: str = ""
    export: list[dict] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    probes: dict[str, dict | None] = field(default_factory=dict)  # grading path -> what the intruder's cell saw
    formgrader_autograde: dict = field(default_factory=dict)
    executed_grade_output: str = ""
    instructor_uid: int = -1
    unsandboxed: dict = field(default_factory=dict)  # the same cell run as the instructor without the sandbox


def _released_notebook() -> dict:
    return json.loads((ROOT / "exercises" / EXERCISE / NOTEBOOK).read_text())


def _cell_index(cell_id: str) -> int:
    return [c.get("id") for c in _released_notebook()["cells"]].index(cell_id)


def _expected(answers_by_variable: dict[str, object]) -> dict[str, float]:
    """Points per grade cell for these answers, from the scoring core and the source notebook's references."""
    points = {}
    for part in graded_parts(ROOT / "solutions", EXERCISE):
        given = answers_by_variable.get(part.variable)
        score = score_items(given, part.reference, load_part(part.part).rules, part.points)
        points[part.grade_id] = score.points if given is not None else 0.0
    return points


def _write_answers(nb: dict, answers_by_variable: dict[str, object]) -> dict:
    from autograder.core.literals import cell_source
    from course.widgets.recorder import replace_assignment

    for cell in nb["cells"]:
        for variable, answers in answers_by_variable.items():
            if cell.get("id") == f"answers-{variable}":
                cell["source"] = replace_assignment(cell_source(cell), variable, answers)
    return nb


def _browser_answers(reference: dict) -> tuple[dict, float]:
    """What the browser trainee codes: the reference with two deliberate misses (-1 and -0.5)."""
    answers = {k: {"code": v["code"], "empathy": v["empathy"]} for k, v in reference.items()}
    answers["T2"]["code"] = "CR"
    answers["T10"]["empathy"] = 4
    return answers


def _code_with_the_form(hub: HubCourse, user: str, answers: dict, shots: Path) -> None:
    """Log in through the hub's page, open the fetched notebook in JupyterLab, code every turn, run, save."""
    from playwright.sync_api import sync_playwright

    from course.rubric import load_rubric

    codes = load_rubric().code_ids
    form_cell, answer_cell = _cell_index("form-amira"), _cell_index("answers-amira")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", hub.passwords[user])
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{user}/**", timeout=120_000)
            lab = Lab(page, f"{hub.url}/user/{user}", "")
            page.goto(f"{lab.base}/lab/workspaces/e2e/tree/{EXERCISE}/{NOTEBOOK}?reset")
            page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").wait_for(timeout=90_000)
            lab.wait_idle()
            form = lab.cell(form_cell)
            first = form.get_by_label("T1 behaviour code", exact=True)
            lab.run_cell(form_cell)
            try:
                first.wait_for(timeout=20_000)
            except Exception:
                page.screenshot(path=str(shots / "hub-form-missing.png"), full_page=False)
                lab.run_cell(form_cell)  # once more: a click that landed while the page was still settling
                first.wait_for(timeout=60_000)
            for turn_id, item in answers.items():
                form.get_by_label(f"{turn_id} behaviour code", exact=True).select_option(
                    index=1 + codes.index(item["code"]))
                form.get_by_label(f"{turn_id} empathy level", exact=True).select_option(index=item["empathy"])
            page.get_by_text(f"{len(answers)} of {len(answers)} turns fully coded").wait_for()
            lab.run_cell(answer_cell)
            lab.save()
            saved = Path(f"/home/{user}/{EXERCISE}/{NOTEBOOK}")
            wait_for_file(saved, lambda text: answers_in_notebook(json.loads(text), "amira").value == answers)
            page.screenshot(path=str(shots / "hub-form.png"), full_page=False)
            # The recipe's JupyterLab overrides: no "get Jupyter news?" prompt over a trainee's notebook.
            assert page.get_by_text("notified about official Jupyter news").count() == 0
        finally:
            browser.close()


def _leak_cell(hub: HubCourse, intruder: str, exchange: Path | None = None) -> str:
    where = {"exchange": str(exchange or hub.exchange), "user": intruder, "course": str(hub.course_dir),
             "gradebook": str(hub.course_dir / "gradebook.db"),
             "urls": {"hub API (proxy)": f"{hub.url}/hub/api/", "hub API (hub)": f"http://127.0.0.1:{hub.hub_port}/"
                      "hub/api/", "formgrader": f"http://127.0.0.1:{hub.formgrader_port}/"}}
    return f"where = {json.dumps(where)}\n" + LEAK_CELL


def _autograded(hub: HubCourse, intruder: str) -> Path:
    return hub.course_dir / "autograded" / intruder / EXERCISE / NOTEBOOK


def _probe(hub: HubCourse, intruder: str) -> dict | None:
    """What the intruder's cell printed in its autograded notebook (read as root), or None if it did not run."""
    path = _autograded(hub, intruder)
    if not path.exists():
        return None
    for cell in json.loads(path.read_text())["cells"]:
        for output in cell.get("outputs", []) if cell.get("id") == "leak" else []:
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if line.startswith(PROBE):
                    return json.loads(line[len(PROBE):])
    return None


def _sandbox_rows(hub: HubCourse, run: CohortRun, intruder: str) -> None:
    """The rows measured by the intruder's cell under each executed grading path (or NOT RUN, which fails)."""
    paths = ", ".join(run.probes)
    probes = list(run.probes.values())
    if any(p is None for p in probes):
        missing = ", ".join(k for k, v in run.probes.items() if v is None)
        for row in ("read the solutions/ through code that `nbgrader autograde` runs",
                    "write the gradebook from code that `nbgrader autograde` runs",
                    "reach the hub on 127.0.0.1 from code that `nbgrader autograde` runs"):
            run.isolation.append((row, "NOT RUN", f"no probe output under {missing}"))
        return
    leak = hub.exchange / f"leak-{intruder}.ipynb"
    seen_solutions = any(p["solutions"] for p in probes)
    run.isolation.append(("read the solutions/ through code that `nbgrader autograde` runs",
                          "ALLOWED" if leak.exists() or seen_solutions else "denied",
                          f"{leak.name} not written, solutions/ not visible ({paths})"
                          if not (leak.exists() or seen_solutions) else f"{leak.name} written or solutions/ seen"))
    wrote = [p["gradebook_write"] for p in probes]
    run.isolation.append(("write the gradebook from code that `nbgrader autograde` runs",
                          "ALLOWED" if "opened for writing" in wrote or any(p["gradebook"] for p in probes)
                          else "denied", wrote[0][:90]))
    answers = [a for p in probes for a in p["hub"].values()]
    run.isolation.append(("reach the hub on 127.0.0.1 from code that `nbgrader autograde` runs",
                          "ALLOWED" if any(a.startswith("HTTP") for a in answers) else "denied",
                          f"{len(answers)} attempts: {answers[0][:70]}"))


def _grades(hub: HubCourse) -> dict[str, dict[str, float]]:
    """Each trainee's recorded score per rubric cell (the format checks left out)."""
    recorded = gradebook_scores(hub.course_dir)
    recorded = recorded[recorded["cell"].str.startswith("score_")]
    return {student: dict(zip(rows["cell"], rows["score"], strict=True))
            for student, rows in recorded.groupby("student")}


def _isolation(hub: HubCourse, run: CohortRun, intruder: str, other: str) -> None:
    """Each attempt of the isolation table, run as a trainee; outcome 'denied' or 'ALLOWED'."""
    course = hub.course_dir
    inbound = hub.exchange / "attune" / "inbound"
    # The other trainee's own submission (the intruder's fake one in their name is there too).
    [submission] = [p for p in inbound.iterdir() if p.name.startswith(f"{other}+") and p.owner() == other]
    [feedback] = [p for p in (hub.exchange / "attune" / "feedback").iterdir()
                  if p.read_text() == run.feedback[other]]  # the other trainee's page, as they fetched it
    [formgrader] = processes(running=[f"--ServerApp.root_dir={hub.course_dir}"])  # the service (recipe)
    attempts = [
        ("read the instructor's solutions/", ["cat", str(course / "solutions" / EXERCISE / NOTEBOOK)]),
        ("copy the gradebook (gradebook.db)", ["cp", str(course / "gradebook.db"), "/tmp/stolen.db"]),
        ("list the instructor's course folder", ["ls", str(course)]),
        ("read another trainee's working notebook", ["cat", f"/home/{other}/{EXERCISE}/{NOTEBOOK}"]),
        ("list another trainee's home", ["ls", f"/home/{other}"]),
        ("rename the course folder in the exchange", ["mv", str(hub.exchange / "attune"),
                                                      str(hub.exchange / "hijacked")]),
        ("overwrite a released notebook in the exchange",
         ["sh", "-c", f"echo x > {hub.exchange}/attune/outbound/{EXERCISE}/{NOTEBOOK}"]),
        ("delete the released exercise in the exchange",
         ["rm", "-rf", str(hub.exchange / "attune" / "outbound" / EXERCISE)]),
        ("list the submissions (inbound/)", ["ls", str(inbound)]),
        ("list the feedback folder", ["ls", str(hub.exchange / "attune" / "feedback")]),
        ("read the hub's database and cookie secret", ["cat", str(hub.hub_dir / "jupyterhub_cookie_secret")]),
        ("read the hub's configuration (course.toml)", ["cat", str(hub.hub_dir / "course.toml")]),
        ("read the environment of the instructor's formgrader",
         ["cat", f"/proc/{formgrader}/environ"]),
        ("read another trainee's submission, knowing its secret folder name",
         ["cat", str(submission / NOTEBOOK)]),
        ("replace another trainee's submitted notebook, knowing its folder name",
         ["sh", "-c", 'cp "$1" "$HOME/copy" && rm -f "$1" && cp "$HOME/copy" "$1"', "sh",
          str(submission / NOTEBOOK)]),
        ("read another trainee's feedback page, knowing its hashed name", ["cat", str(feedback)]),
    ]
    for row, command in attempts:
        result = hub.run_as(intruder, command, check=False)
        run.isolation.append((row, "denied" if result.returncode else "ALLOWED",
                              (result.stderr or result.stdout).strip().splitlines()[-1:][0][:90]
                              if (result.stderr or result.stdout).strip() else ""))
    token = hub.token_for(intruder)
    http = [
        ("open another trainee's server (hub token)", "GET", f"/user/{other}/api/contents"),
        ("open formgrader (hub service)", "GET", "/services/formgrader/formgrader/api/assignments"),
        ("list the hub's users (admin API)", "GET", "/hub/api/users"),
        ("start another trainee's server (hub API)", "POST", f"/hub/api/users/{other}/server"),
        ("formgrader in the trainee's own server", "GET", f"/user/{intruder}/formgrader"),
    ]
    for row, method, path in http:
        status = hub.request(method, path, token=token).status
        run.isolation.append((row, "denied" if status in (403, 404) else "ALLOWED", f"HTTP {status}"))
    # The installed package every kernel imports holds no answer key: none of the keys' rationales is in it.
    rationales = _key_rationales()
    site = next(hub.prefix.glob("lib/python3*/site-packages"))
    files = [p for folder in ("course", "autograder") for p in (site / folder).rglob("*") if p.is_file()]
    leaks = [p for p in files if any(r in p.read_text(errors="ignore") for r in rationales)]
    run.isolation.append(("find an answer key in the shared environment's Attune package",
                          "ALLOWED" if leaks else "denied",
                          f"{len(rationales)} key rationales searched in {len(files)} installed files"))


def _key_rationales() -> list[str]:
    import yaml

    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "why" and isinstance(item, str) and len(item) > 40:
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted((ROOT / "solutions").rglob("keys/**/*.yaml")):
        walk(yaml.safe_load(path.read_text()))
    assert len(found) > 100
    return found


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, reference) -> CohortRun:
    require_chromium()
    shots = tmp_path_factory.mktemp("hub")
    t0 = time.monotonic()
    with hub_course(trainees=4) as hub:
        installed = time.monotonic()
        browser_user, honest, simulated, intruder = hub.trainees
        run = CohortRun(hub, {"browser": browser_user, "honest": honest, "simulated": simulated,
                              "intruder": intruder}, {})
        run.timings["install + users + hub start"] = installed - t0
        # A lesson runs top to bottom as a trainee, from the shared environment (its widgets and content).
        lesson = "course/lessons/01-hearing-the-concern.ipynb"
        run.lesson_run = hub.run_as(hub.trainees[0], ["jupyter", "nbconvert", "--to", "notebook", "--execute",
                                                      "--stdout", lesson], check=False).returncode
        for user in hub.trainees:
            lessons = Path(f"/home/{user}/course/lessons")
            run.lessons[user] = sorted((p.name, p.owner()) for p in lessons.glob("*.ipynb"))
        for user in hub.trainees:
            assert hub.api("POST", f"/users/{user}").status in (201, 409)
            hub.start_server(user)
        run.timings["four servers via the hub API"] = time.monotonic() - installed

        # Instructor: generate and release through formgrader (the hub service), with the instructor's token.
        teacher = hub.token_for(hub.instructor)
        for verb in ("assign", "release"):
            response = hub.request("POST", f"/services/formgrader/formgrader/api/assignment/{EXERCISE}/{verb}",
                                   token=teacher)
            assert response.status == 200 and response.json()["success"], (verb, response.body[-2000:])

        # Trainees fetch through their own servers.
        for user in hub.trainees:
            response = hub.request("POST", f"/user/{user}/assignments/fetch", token=hub.token_for(user), form=COURSE)
            assert response.status == 200, response
            assert Path(f"/home/{user}/{EXERCISE}/{NOTEBOOK}").is_file()

        # Answers. Browser trainee: the form, in JupyterLab, logged in through the hub.
        amira = _browser_answers(reference)
        _code_with_the_form(hub, browser_user, amira, shots)
        run.expected[browser_user] = _expected({"amira": amira})
        # Honest trainee: the references themselves; simulated trainee: a "careless" coder's answers. Both written
        # through the user's own server (contents API), as JupyterLab saves a file.
        parts = graded_parts(ROOT / "solutions", EXERCISE)
        full = {p.variable: {k: {f: copy.deepcopy(v) for f, v in item.items() if f != "why"}
                             for k, item in p.reference.items()} for p in parts}
        from autograder.core.simulate import simulate_answers

        rng = random.Random(11)
        careless = {p.variable: simulate_answers(p.reference, load_part(p.part).rules, "careless", rng)
                    for p in parts}
        for user, answers in ((honest, full), (simulated, careless)):
            path = f"/user/{user}/api/contents/{EXERCISE}/{NOTEBOOK}"
            nb = hub.request("GET", path, token=hub.token_for(user)).json()["content"]
            put = hub.request("PUT", path, token=hub.token_for(user),
                              data={"type": "notebook", "format": "json", "content": _write_answers(nb, answers)})
            assert put.status == 200, put
            run.expected[user] = _expected(answers)
        # The intruder answers nothing; their notebook has a cell that copies the instructor's solutions into the
        # exchange if anyone runs it with the instructor's rights (executed grading does).
        path = f"/user/{intruder}/api/contents/{EXERCISE}/{NOTEBOOK}"
        nb = hub.request("GET", path, token=hub.token_for(intruder)).json()["content"]
        nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "leak", "metadata": {},
                            "outputs": [], "source": _leak_cell(hub, intruder)})
        assert hub.request("PUT", path, token=hub.token_for(intruder),
                           data={"type": "notebook", "format": "json", "content": nb}).status == 200
        run.expected[intruder] = _expected({})

        # Submit through the servers; then the intruder submits the same blank notebook claiming to be the honest
        # trainee, after the honest trainee's real submission.
        for user in (browser_user, honest, simulated, intruder):
            response = hub.request("POST", f"/user/{user}/assignments/submit", token=hub.token_for(user), form=COURSE)
            assert response.status == 200 and '"success": true' in response.body.decode(), response
        time.sleep(1.1)
        run.impersonation = hub.run_as(intruder, ["nbgrader", "submit", EXERCISE, f"--student={honest}"],
                                       check=False).returncode
        run.timings["release, fetch, answer, submit"] = time.monotonic() - installed - run.timings[
            "four servers via the hub API"]

        # Instructor: collect through formgrader, grade on the command line (nbgrader autograde, then Attune's
        # cross-check), feedback through formgrader.
        step = time.monotonic()
        response = hub.request("POST", f"/services/formgrader/formgrader/api/assignment/{EXERCISE}/collect",
                               token=teacher)
        assert response.status == 200, response
        run.collect_log = response.json().get("log", "")
        (shots / "collect.log").write_text(response.body.decode())
        course = str(hub.course_dir)
        # Executed grading, three ways, each running every kernel in the sandbox as the (non-root) instructor; the
        # intruder's cell reports what it saw each time (its autograded notebook is removed before each, so each
        # report comes from its own run).
        import pwd

        run.instructor_uid = pwd.getpwnam(hub.instructor).pw_uid
        started = time.monotonic()
        hub.run_as(hub.instructor, ["nbgrader", "autograde", EXERCISE], cwd=course)
        run.timings["nbgrader autograde (4 notebooks)"] = time.monotonic() - started
        run.probes["nbgrader autograde"] = _probe(hub, intruder)
        _autograded(hub, intruder).unlink()
        started = time.monotonic()
        response = hub.request("POST", f"/services/formgrader/formgrader/api/submission/{EXERCISE}/{intruder}/"
                               "autograde", token=teacher)
        assert response.status == 200, response
        run.formgrader_autograde = response.json()
        run.timings["formgrader Autograde (1 notebook)"] = time.monotonic() - started
        run.probes["formgrader Autograde"] = _probe(hub, intruder) if run.formgrader_autograde.get("success") else None
        _autograded(hub, intruder).unlink(missing_ok=True)
        started = time.monotonic()
        executed = hub.run_as(hub.instructor, ["attune", "grade", EXERCISE, "--force", "--quiet"], cwd=course,
                              check=False)
        run.executed_grade_output = f"exit {executed.returncode}\n{executed.stdout}\n{executed.stderr}"
        run.timings["attune grade --force (4 notebooks)"] = time.monotonic() - started
        run.probes["attune grade"] = _probe(hub, intruder) if executed.returncode == 0 else None
        # The control: the same cell run directly as the instructor, outside the sandbox (copying into the
        # instructor's own home, not the exchange), must see and reach everything, or the rows above prove nothing.
        control = hub.run_as(hub.instructor, ["python", "-c", _leak_cell(hub, intruder, Path(course).parent)],
                             cwd=course)
        run.unsandboxed = json.loads(control.stdout.split(PROBE, 1)[1])
        compared = hub.run_as(hub.instructor, ["attune", "grade", EXERCISE, "--compare"], cwd=course, check=False)
        run.compare_output = f"exit {compared.returncode}\n{compared.stdout}\n{compared.stderr}"
        for verb in ("generate_feedback", "release_feedback"):
            response = hub.request("POST", f"/services/formgrader/formgrader/api/assignment/{EXERCISE}/{verb}",
                                   token=teacher)
            assert response.status == 200 and response.json()["success"], (verb, response.body[-2000:])
        hub.run_as(hub.instructor, ["nbgrader", "export", "--to", "grades.csv"], cwd=course)
        hub.run_as(hub.instructor, ["attune", "report", "--course", course, "--no-feedback"], cwd=course)
        run.timings["collect, autograde, feedback, export, report"] = time.monotonic() - step

        for user in hub.trainees:
            response = hub.request("POST", f"/user/{user}/assignments/fetch_feedback", token=hub.token_for(user),
                                   form=COURSE)
            assert response.status == 200, response
            pages = sorted(Path(f"/home/{user}/{EXERCISE}/feedback").rglob("*.html"))
            run.feedback[user] = pages[-1].read_text() if pages else ""
            (shots / f"feedback-{user}.html").write_text(run.feedback[user])

        run.grades = _grades(hub)
        with open(hub.course_dir / "grades.csv", newline="") as handle:
            run.export = list(csv.DictReader(handle))
        run.report = (hub.course_dir / "report" / "report.html").read_text()
        kept = hub.course_dir / "submitted" / honest / EXERCISE / NOTEBOOK
        before = kept.read_bytes()
        _isolation(hub, run, intruder, honest)
        # The isolation table replaced the honest trainee's submitted notebook in inbound/ with a copy of the
        # intruder's; collecting again refuses it as tampered and keeps what was collected before.
        response = hub.request("POST", f"/services/formgrader/formgrader/api/assignment/{EXERCISE}/collect",
                               token=teacher)
        run.second_collect_log = response.json().get("log", "")
        run.kept_unchanged = kept.read_bytes() == before
        run.refused = [json.loads(line) for line in
                       (hub.course_dir / "refused" / "refused-submissions.jsonl").read_text().splitlines()]
        with open(hub.course_dir / "report" / "refused-submissions.csv", newline="") as handle:
            run.refused_csv = list(csv.DictReader(handle))
        # Static grading runs no trainee code: the same submissions again, and nothing leaks.
        leak = hub.exchange / f"leak-{intruder}.ipynb"
        _sandbox_rows(hub, run, intruder)
        leak.unlink(missing_ok=True)
        hub.run_as(hub.instructor, ["attune", "grade", EXERCISE, "--static", "--force", "--quiet"], cwd=course)
        run.isolation.append(("the same under `attune grade --static`", "ALLOWED" if leak.exists() else "denied",
                              "nothing written"))
        run.static_grades = _grades(hub)
        run.isolation.append(("submit in another trainee's name (`nbgrader submit --student`)",
                              "ALLOWED" if run.impersonation == 0 else "denied",
                              "refused at collect: see the impersonation test"))
        run.timings["end to end (wall)"] = time.monotonic() - t0
    print("\nJupyterHub end to end: " + ", ".join(f"{k} {v:.0f} s" for k, v in run.timings.items()))
    print("Isolation, as a trainee:\n" + "\n".join(f"  {o:8} {r} ({d})" for r, o, d in run.isolation))
    print("What the intruder's cell saw, per grading path:\n" + "\n".join(
        f"  {path}: {json.dumps(seen)}" for path, seen in [*run.probes.items(), ("unsandboxed", run.unsandboxed)]))
    return run


def test_grades_follow_what_each_trainee_wrote(cohort):
    browser_user = cohort.trainees["browser"]
    for user in (browser_user, cohort.trainees["honest"], cohort.trainees["simulated"]):
        assert cohort.grades[user] == pytest.approx(cohort.expected[user]), user
    assert cohort.grades[browser_user]["score_amira"] == 18.5  # the form path: two deliberate misses
    assert sum(cohort.grades[cohort.trainees["honest"]].values()) == sum(
        p.points for p in graded_parts(ROOT / "solutions", EXERCISE))
    assert cohort.grades[cohort.trainees["intruder"]] == pytest.approx(cohort.expected[cohort.trainees["intruder"]])
    assert cohort.static_grades == cohort.grades  # `attune grade --static` on the same submissions
    # No differences; it exits 3 all the same, because the refused impersonation needs the grader's attention.
    assert "No differences." in cohort.compare_output and cohort.compare_output.startswith("exit 3"), \
        cohort.compare_output
    assert f"REFUSED SUBMISSION  {cohort.trainees['honest']} {EXERCISE}" in cohort.compare_output, \
        cohort.compare_output


def test_impersonated_submission_is_refused_and_the_real_one_graded(cohort):
    honest, intruder = cohort.trainees["honest"], cohort.trainees["intruder"]
    assert honest in cohort.collect_log and intruder in cohort.collect_log, cohort.collect_log
    assert cohort.impersonation == 0  # nbgrader's submit accepted the claim; only collect can refuse it
    assert "Refused" in cohort.collect_log
    assert [(r["claimed"], r["owner"], r["reason"]) for r in cohort.refused] == [
        (honest, intruder, f"its files belong to {intruder} (impersonation)"),
        (honest, honest, f"{NOTEBOOK} belongs to {intruder} (tampering: not all of it is {honest}'s own work)")]
    assert "Recorded before" in cohort.second_collect_log and "tampering" in cohort.second_collect_log
    assert cohort.kept_unchanged
    # The report, written between the two collects, lists the first refusal.
    assert "Refused submissions (impersonation or tampering) (1)" in cohort.report
    assert [(r["claimed"], r["owner"]) for r in cohort.refused_csv] == [(honest, intruder)]
    assert cohort.grades[honest] == pytest.approx(cohort.expected[honest])  # the real work, full marks


def test_each_trainee_fetches_their_own_feedback(cohort):
    for role in ("browser", "honest", "simulated", "intruder"):
        user = cohort.trainees[role]
        page = cohort.feedback[user]
        assert page, f"{user} got no feedback page"
        total = sum(cohort.expected[user].values())
        assert f"{total:g}" in page or f"{total:.1f}" in page or f"{total:.2f}" in page, (user, total)
        assert "REFERENCE" not in page and "BEGIN HIDDEN TESTS" not in page


def test_every_trainee_has_their_own_copy_of_the_lessons(cohort):
    names = sorted(p.name for p in (ROOT / "course" / "lessons").glob("*.ipynb"))
    for user in cohort.hub.trainees:
        assert cohort.lessons[user] == [(name, user) for name in names]
    assert cohort.lesson_run == 0  # lesson 01 executed without an error, as a trainee


def test_export_lists_every_submission(cohort):
    rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in cohort.export}
    for role in ("browser", "honest", "simulated", "intruder"):
        user = cohort.trainees[role]
        assert rows[(user, EXERCISE)] == pytest.approx(sum(cohort.expected[user].values()))


# Rows nbgrader's exchange cannot prevent (world-readable files in a world-writable submission folder): each is
# guarded only by a secret name the trainee cannot list. See the README's JupyterHub section.
NOT_PREVENTABLE = {
    "read another trainee's submission, knowing its secret folder name",
    "replace another trainee's submitted notebook, knowing its folder name",
    "read another trainee's feedback page, knowing its hashed name",
    "submit in another trainee's name (`nbgrader submit --student`)",
}


def test_isolation_table(cohort):
    assert {outcome for _, outcome, _ in cohort.isolation} <= {"denied", "ALLOWED"}, cohort.isolation  # measured
    allowed = {row for row, outcome, _ in cohort.isolation if outcome == "ALLOWED"}
    assert allowed <= NOT_PREVENTABLE, allowed - NOT_PREVENTABLE
    assert len(cohort.isolation) >= 23


def test_executed_grading_runs_sandboxed_as_the_instructor(cohort):
    """Every executed grading path ran the intruder's cell in the sandbox, as the (non-root) instructor: no course
    folder beyond the submission's own copy, no gradebook, no solutions/, no exchange, no network."""
    hub, intruder = cohort.hub, cohort.trainees["intruder"]
    assert cohort.formgrader_autograde.get("success"), cohort.formgrader_autograde
    assert cohort.executed_grade_output.startswith("exit 0"), cohort.executed_grade_output
    instructor = cohort.instructor_uid
    assert set(cohort.probes) == {"nbgrader autograde", "formgrader Autograde", "attune grade"}
    for path, seen in cohort.probes.items():
        assert seen is not None, f"{path}: the intruder's cell left no output"
        assert seen["uid"] == seen["euid"] == instructor != 0, (path, seen)
        assert seen["user"] == hub.instructor, (path, seen)
        assert seen["hostname"] == "grading", (path, seen)  # the sandbox's own UTS namespace
        assert seen["solutions"] == [] and not seen["gradebook"] and not seen["exchange"], (path, seen)
        assert seen["gradebook_write"].startswith("FileNotFoundError"), (path, seen)
        # Of the course folder, only the parent folders of the submission's working copy exist in the sandbox.
        assert set(seen["course"]) <= {"autograded", "submitted"}, (path, seen)
        assert seen["cwd"].startswith(f"{hub.course_dir}/") and seen["cwd"].endswith(f"/{intruder}/{EXERCISE}"), \
            (path, seen)
        assert seen["hub"] and not any(a.startswith("HTTP") for a in seen["hub"].values()), (path, seen)
    # The control: outside the sandbox the same cell sees the solutions and the gradebook and reaches the hub.
    control = cohort.unsandboxed
    assert control["uid"] == instructor and control["hostname"] != "grading", control
    assert control["solutions"] and control["gradebook"] and control["exchange"], control
    assert control["gradebook_write"] == "opened for writing" and "solutions" in control["course"], control
    assert all(a.startswith("HTTP") for a in control["hub"].values()), control


def test_a_course_file_with_a_missing_or_broken_value_is_named(tmp_path):
    # install.sh and add-user.sh read course.toml through common.sh; a mistake there must name the file and key.
    from hubdriver import RECIPE, require_root

    require_root()
    missing, broken = tmp_path / "missing.toml", tmp_path / "broken.toml"
    missing.write_text('prefix = "/opt/attune"\n')
    broken.write_text("prefix = \n")
    script = f'config="$1"; source {RECIPE / "common.sh"}; toml "$2"'
    for config, key, message in ((missing, "prefix", None), (missing, "exchange", f"{missing} has no 'exchange'"),
                                 (broken, "prefix", f"cannot read {broken}: Invalid value")):
        done = subprocess.run(["bash", "-c", script, "install.sh", str(config), key], capture_output=True, text=True)
        if message is None:
            assert done.returncode == 0 and done.stdout == "/opt/attune\n"
        else:
            assert done.returncode != 0 and message in done.stderr, done.stderr
