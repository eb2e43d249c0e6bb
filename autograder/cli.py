"""The ``attune`` command line. Thin: argument parsing here, the work in the modules it calls."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from course.errors import AttuneError

FIRST_LESSON = Path("course/lessons/00-start-here.ipynb")
PRACTICE_NOTEBOOK = Path("course/lessons/practice.ipynb")
# Jupyter config for a self-paced learner's server: labconfig/page_config.json (nbgrader's lab plugins disabled)
# and jupyter_server_config.json (nbgrader's server extensions off). Shipped as package data.
SELF_PACED_CONFIG = Path(__file__).resolve().parent / "lab-selfpaced"


def _nearest(start: Path | None, folder_name: str) -> Path | None:
    """The nearest folder at or above ``start`` holding nbgrader_config.py and a folder named ``folder_name``."""
    here = (start or Path.cwd()).resolve()
    return next((f for f in (here, *here.parents)
                 if (f / "nbgrader_config.py").is_file() and (f / folder_name).is_dir()), None)


def course_root(start: Path | None = None) -> Path:
    """The course folder around ``start`` (default: the current folder): the nearest folder at or above it holding
    nbgrader_config.py and solutions/ (a course made by `attune init`, the shipped course, an instructor's folder on
    a JupyterHub); else the shipped course this package was installed from."""
    found = _nearest(start, "solutions")
    if found is not None:
        return found
    package_root = Path(__file__).resolve().parent.parent
    if (package_root / "nbgrader_config.py").is_file():
        return package_root
    raise AttuneError("no course folder found (a folder with nbgrader_config.py and solutions/). Run this inside "
                      "one, or make one with `attune init DIR`.")


grading_root = course_root  # the folder nbgrader grades in is the course folder


def enter_course(root: Path) -> Path:
    """Use ``root``'s own content (its content/ folder, if any) before the shipped curriculum, in this process."""
    from autograder.authoring.build import CONTENT_FOLDER
    from course.library import use_content

    own = root / CONTENT_FOLDER
    use_content(*([own] if own.is_dir() else []))
    return root


def lab_command(root: Path, extra: list[str], first: Path | None = None) -> list[str]:
    """`jupyter lab` serving the whole course folder (nbgrader needs it as the server root), opening ``first``, or
    lesson 0 of the shipped course, or the README of a course of one's own."""
    if first is None:
        first = FIRST_LESSON if (root / FIRST_LESSON).is_file() else Path("README.md")
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
               f"--LabApp.default_url=/lab/tree/{first.as_posix()}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and fresh cloud machines often log in as root
    return [*command, *extra]


def lab_server(root: Path, extra: list[str], *, instructor: bool = False, environ: dict[str, str] | None = None,
               first: Path | None = None) -> tuple[list[str], dict[str, str]]:
    """The command and environment `attune lab` starts JupyterLab with.

    A self-paced learner has no instructor and no exchange: by default SELF_PACED_CONFIG goes first on
    JUPYTER_CONFIG_PATH (highest priority, for this server only), which switches off nbgrader's lab plugins
    (Formgrader, Create Assignment, Course List, Assignment List, Validate) and its server extensions. The
    user's and the system's Jupyter config are read as usual and never written. ``instructor`` keeps every
    nbgrader tool (course authors and instructors)."""
    base = dict(os.environ if environ is None else environ)
    env = {**base, "PATH": _with_bin_on_path(base.get("PATH", ""))}
    if not instructor:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(SELF_PACED_CONFIG), base.get("JUPYTER_CONFIG_PATH", "")) if p)
    return lab_command(root, extra, first), env


def cmd_lab(args: argparse.Namespace) -> int:
    root = course_root()
    command, env = lab_server(root, args.jupyter_args, instructor=args.instructor)
    view = "instructor's view, every nbgrader tool" if args.instructor else "self-paced learner's view"
    print(f"Opening the course in JupyterLab from {root} ({view}; Ctrl+C twice to stop).", flush=True)
    return subprocess.call(command, cwd=root, env=env)


def practice_notebook(root: Path) -> Path:
    """The practice notebook of the course folder ``root`` (relative to it): the shipped course's, or, in a course
    of one's own, practice.ipynb at its top, copied from the shipped one the first time (never overwritten)."""
    if (root / PRACTICE_NOTEBOOK).is_file():
        return PRACTICE_NOTEBOOK
    own = Path("practice.ipynb")
    if not (root / own).exists():
        from course import CONTENT_DIR

        shipped = CONTENT_DIR / "lessons" / PRACTICE_NOTEBOOK.name
        if not shipped.is_file():
            raise AttuneError(f"no practice notebook to copy ({shipped} is missing); reinstall Attune from its "
                              "repository.")
        import shutil

        shutil.copy2(shipped, root / own)
    return own


def cmd_practice(args: argparse.Namespace) -> int:
    from course.practice import practice_folders

    root = course_root()
    if not practice_folders(root):
        raise AttuneError(f"no practice bank for {root}: practice needs solutions/practice/ (the reference answers) "
                          "in the course folder or beside the shipped course. Run it from Attune's repository, or "
                          "add your own items in solutions/practice/.")
    notebook = practice_notebook(root)
    command, env = lab_server(root, args.jupyter_args, first=notebook)
    print(f"Opening practice in JupyterLab: {root / notebook} (Ctrl+C twice to stop).", flush=True)
    return subprocess.call(command, cwd=root, env=env)


def cmd_validate(_args: argparse.Namespace) -> int:
    """Every content file in force (the course's own, then the shipped curriculum), ids defined twice, and the
    course's exercise list with its keys (as `attune build` would read them, without writing anything)."""
    from course.items import feelings_and_concerns, load_item_set, referral_terms
    from course.library import KINDS, all_ids, content_folders, setting
    from course.resources import load_resources
    from course.rubric import load_rubric
    from course.scenario import load_scenario
    from course.transcript import load_transcript

    loaders = {"transcripts": load_transcript, "scenarios": load_scenario, "items": load_item_set}
    checks = [(setting("rubric.yaml"), load_rubric)]
    for folder in content_folders():
        checks += [(p, loaders[kind]) for kind in KINDS for p in sorted((folder / kind).glob("*.yaml"))]
    checks += [(setting("vocabulary/feelings-and-concerns.yaml"), lambda _p: feelings_and_concerns()),
               (setting("vocabulary/referral.yaml"), lambda _p: referral_terms()), (_resources_path(), load_resources)]
    failures = 0
    for path, load in checks:
        failures += _report_check(_shown(path), lambda load=load, path=path: load(path))
    for kind in KINDS:
        failures += _report_check(f"{kind}: every id once", lambda kind=kind: all_ids(kind), quiet=True)
    failures += _report_check("scenario codes are the rubric's", _check_scenario_codes)
    failures += _report_check("solutions/exercises.yaml and its keys", _check_exercises)
    failures += _report_check("the practice bank (solutions/practice/)", _check_practice_bank)
    if failures:
        print(f"{failures} content file(s) need fixing.", file=sys.stderr)
    return 1 if failures else 0


def _check_practice_bank() -> None:
    """Every practice file in force (the course's own, then the shipped bank unless the course has its own
    rubric), against the rubric and vocabularies in force; ids once across the bank."""
    from course.practice import load_bank

    load_bank()


def _resources_path() -> Path:
    from course.resources import resources_path

    return resources_path()


def _shown(path: Path) -> str:
    path = Path(path).resolve()
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def _report_check(what: str, check, quiet: bool = False) -> int:
    from course.loading import ContentError

    try:
        check()
    except ContentError as err:
        print(err, file=sys.stderr)
        return 1
    if not quiet:
        print(f"ok  {what}")
    return 0


def _check_scenario_codes() -> None:
    """Every option of the course's own scenarios has a code of the rubric in force (the shipped scenarios are coded
    with the shipped rubric, which their lessons use)."""
    from course.library import all_ids, is_shipped
    from course.loading import ContentError
    from course.rubric import load_rubric
    from course.scenario import load_scenario

    codes = load_rubric().code_ids
    problems = [f"{path}: nodes.{name}: code {option.code!r} is not in the rubric in force ({', '.join(codes)})"
                for path in all_ids("scenarios").values() if not is_shipped(path)
                for name, node in load_scenario(path).nodes.items()
                for option in node.options if option.code not in codes]
    if problems:
        raise ContentError("\n".join(problems))


def _check_exercises() -> None:
    from autograder.authoring.build import MANIFEST, build_exercise, course_exercises

    solutions = course_root() / "solutions"
    if (solutions / MANIFEST).is_file():
        for exercise in course_exercises(solutions):
            build_exercise(exercise.entry, exercise.keys)


def cmd_build(args: argparse.Namespace) -> int:
    from autograder.authoring.build import course_exercises, second_coding_gate, write_exercise

    root = course_root()
    solutions = root / "solutions"
    found = course_exercises(solutions)
    chosen = [x for x in found if not args.assignments or x.entry.id in args.assignments]
    unknown = sorted(set(args.assignments) - {x.entry.id for x in found})
    if unknown:
        print(f"attune build: {unknown[0]} is not in solutions/exercises.yaml", file=sys.stderr)
        return 2
    for exercise in chosen:  # every gate first: a refused build writes none of the exercises
        second_coding_gate(exercise, tuple(args.allow_open))
    for exercise in chosen:
        path = write_exercise(exercise, solutions, allow_open=tuple(args.allow_open))
        print(f"built {path.relative_to(root)}")
    return 0


def cmd_second_coding(args: argparse.Namespace) -> int:
    """A blind coding notebook for a colleague; with --collect, their coding as a second-coding record."""
    import shlex

    from autograder.instructor.second_coding import collect, write_blind_notebook

    root = course_root()
    if args.collect:
        path = collect(root, args.transcript, args.coder, Path(args.collect), force=args.force)
        print(f"wrote {_shown(path)}: the key as it is now (first) and {args.coder}'s coding (second). Next: "
              f"`attune agreement {args.transcript}`, then decide each disagreement (Adjudicate in a notebook).")
        return 0
    path = write_blind_notebook(root, args.transcript, args.coder, force=args.force)
    print(f"wrote {_shown(path)}: {args.transcript} and the rubric's form, no key. Send it to {args.coder}; collect "
          f"the saved notebook with `attune second-coding {args.transcript} --coder {shlex.quote(args.coder)} "
          "--collect FILE`.")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    """Agreement between the keys and their second codings, and every disagreement with whether it is resolved."""
    from autograder.instructor.agreement_report import agreement_report

    report = agreement_report(course_root(), args.transcripts, resamples=args.resamples, seed=args.seed)
    print(report.text)
    return 3 if args.open_fails and report.open else 0


def cmd_exercises(args: argparse.Namespace) -> int:
    from autograder.authoring.exercises import assignment_folders, generate_exercise

    root = course_root()
    known = assignment_folders(root)
    names = args.assignments or known
    unknown = [name for name in names if name not in known]
    if unknown:
        found = (root / "solutions" / unknown[0]).is_dir()
        why = (f"solutions/{unknown[0]}/ holds no notebook yet (run `attune build` first)" if found else
               f"no solutions/{unknown[0]}/ in {root}")
        print(f"attune exercises: {why}; known assignments: {', '.join(known)}", file=sys.stderr)
        return 2
    for name in names:
        target = generate_exercise(root, name, root / "exercises")
        print(f"generated {target.relative_to(root)} from solutions/{name}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from autograder.authoring.course_folder import init_course

    include = [x.strip() for x in args.include.split(",") if x.strip()]
    root = init_course(Path(args.folder), course_id=args.course_id, include=include, own_rubric=args.own_rubric)
    print(f"Made the course folder {root}. Next, in it (cd {args.folder}): write the example's key in "
          "solutions/first-call/keys/ (or replace the example with your own content), then\n"
          "  attune validate && attune build\nIts README.md has the rest.")
    return 0


def _own_course_root() -> Path:
    """The course folder around the current folder, which must be one's own: commands never write the shipped
    course's content (the package's)."""
    root = course_root()
    if root == Path(__file__).resolve().parent.parent:
        raise AttuneError("run this inside a course folder of your own (make one with `attune init DIR`); the "
                          "shipped course's transcripts are not written by commands.")
    return root


def cmd_import(args: argparse.Namespace) -> int:
    from autograder.authoring.importers.core import Options
    from autograder.authoring.importers.transcripts import import_transcript

    root = _own_course_root()
    options = Options(id=args.id, listener=tuple(n.strip() for n in args.listener.split(",") if n.strip()),
                      client=args.client, title=args.title, tier=args.tier, context=args.context)
    done = import_transcript(args.format, Path(args.file), options, root,
                             names=Path(args.names) if args.names else None, force=args.force)
    for warning in done.warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    t = done.transcript
    print(f"wrote {done.path.relative_to(root)}: {len(t.turns)} turns ({len(t.therapist_turns)} by {t.therapist} "
          f"to code, {len(t.turns) - len(t.therapist_turns)} by {t.client}). Check it, then `attune validate`.")
    return 0


def cmd_import_csv(args: argparse.Namespace) -> int:
    from autograder.authoring.importers.corpus import CorpusColumns, import_corpus

    root = _own_course_root()

    def labels(value: str) -> list[str]:
        return [x.strip() for x in value.split(",") if x.strip()]

    columns = CorpusColumns(transcript=args.transcript_col, position=args.position_col, speaker=args.speaker_col,
                            text=args.text_col, annotator=args.annotator_col)
    report = import_corpus(Path(args.file), course_root=root, columns=columns, listener=labels(args.listener),
                           client=labels(args.client), mapping_path=Path(args.mapping) if args.mapping else None,
                           key_annotator=args.key_annotator, prefix=args.prefix, tier=args.tier, force=args.force,
                           names=Path(args.names) if args.names else None)
    print(report.format())
    print("Next: pseudonymise and check the transcripts, write each key's why: in keys/, then `attune validate`.")
    return 0


def _thresholds(args: argparse.Namespace):
    from autograder.instructor.analytics import Thresholds

    return Thresholds(code_kappa=args.code_kappa, rating_kappa=args.rating_kappa, score=args.score,
                      max_abs_leniency=args.max_leniency, min_items=args.min_items)


def _gradebook_flags(verb: argparse.ArgumentParser) -> None:
    """--course, --db and --course-id, the same on every verb that uses the gradebook (grade, report, certify,
    export): the flags override the course folder's nbgrader_config.py (autograder/adapters/config.py)."""
    from autograder.adapters.config import COURSE_ID_HELP, DB_HELP

    verb.add_argument("--course", help="course folder (default: the one around the current folder)")
    verb.add_argument("--db", metavar="URL", help=DB_HELP)
    verb.add_argument("--course-id", metavar="ID", help=COURSE_ID_HELP)


def _course_config(args: argparse.Namespace, root: Path):
    """The course's configuration for a verb: its nbgrader_config.py, with --db and --course-id over it."""
    from autograder.adapters.config import load_config

    return load_config(root, db_url=args.db, course_id=args.course_id)


def _cohort(args: argparse.Namespace):
    from autograder.adapters.gradebook import check_gradebook
    from autograder.instructor.cohort import cohort_table, refused_submissions, review_flags

    root = Path(args.course).resolve() if args.course else grading_root()
    refused = refused_submissions(root)  # the collector logs refusals in the course folder itself, whatever its config
    config = _course_config(args, root)
    # Before nbgrader opens it: its Gradebook would create a missing database or course and read it as empty.
    check_gradebook(config)
    table = cohort_table(config, args.assignments or None)
    if table.empty:
        of = f" of {', '.join(args.assignments)}" if args.assignments else ""
        raise AttuneError(f"the gradebook {config.shown_url} (course {config.course_id!r}, course folder {root}) has "
                          f"no autograded submissions{of} yet; grade them first (`attune grade EXERCISE`).")
    return root, table, config, review_flags(config), refused


def _graders_view(config, assignments: list[str]):
    """The gradebook's totals as nbgrader export writes them, and what needs the grader's attention."""
    from autograder.orchestration.attention import course_view

    return course_view(config, assignments or None)


def _unsandboxed_note(root: Path) -> list[str]:
    """The report's warning when some submissions were graded with the sandbox switched off; printed here too."""
    from autograder.instructor.cohort import unsandboxed_submissions

    found = unsandboxed_submissions(root)
    if not found:
        return []
    note = (f"{len(found)} notebook(s) were graded WITHOUT the grading sandbox (c.GradingSandbox.run_unsandboxed "
            "in nbgrader_config.py): their code ran with the grader's rights and could have changed the gradebook, "
            "the course folder or classmates' work. Regrade them sandboxed, or with `attune grade --static`: "
            + ", ".join(found[:20]) + (" ..." if len(found) > 20 else ""))
    print(f"attune: {note}", file=sys.stderr)
    return [note]


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.instructor.report import write_outputs

    root, table, config, review, refused = _cohort(args)
    out = Path(args.out) if args.out else root / "report"
    view = _graders_view(config, args.assignments)
    paths = write_outputs(table, out, _thresholds(args), feedback=not args.no_feedback, review=review,
                          refused=refused, notes=_unsandboxed_note(root), view=view)
    for name, path in paths.items():
        print(f"{name:<10} {path}")
    _say_attention(view, "listed at the top of report.html")
    return 0


def _say_attention(view, where: str) -> None:
    if view.attention:
        print(f"{len(view.attention)} thing(s) need your attention before the totals go out ({where}).")


def cmd_certify(args: argparse.Namespace) -> int:
    from autograder.instructor.analytics import certify, trainee_summary

    _root, table, _config, _review, _refused = _cohort(args)
    summary = certify(trainee_summary(table), _thresholds(args))
    columns = ["score", "code_kappa", "code_band", "rating_kappa", "rating_band", "leniency", "certified", "reasons"]
    print(summary[columns].to_string(float_format=lambda v: f"{v:.2f}"))
    if args.out:
        summary.to_csv(args.out)
        print(f"written to {args.out}")
    print(f"{int(summary['certified'].sum())} of {len(summary)} trainees meet the thresholds.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from autograder.instructor.report import write_outputs

    root, table, config, review, refused = _cohort(args)
    out = Path(args.out) if args.out else root / "exports"
    view = _graders_view(config, args.assignments)
    paths = write_outputs(table, out, _thresholds(args), feedback=False, review=review, refused=refused,
                          notes=_unsandboxed_note(root), view=view)
    for name in ("totals", "items", "trainees", "canvas", "refused"):
        print(f"{name:<10} {paths[name]}")
    _say_attention(view, "the attention column of totals.csv; `attune report` lists them")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.adapters.gradebook import check_gradebook
    from autograder.orchestration.compare import compare
    from autograder.orchestration.executed import grade_executed
    from autograder.orchestration.static_run import grade_static

    root = Path(args.course).resolve() if args.course else grading_root()
    course = _course_config(args, root)
    # nbgrader generate_assignment has made the gradebook and the course by now; a wrong URL or course id would
    # otherwise make an empty one (or a second course) and grade into it.
    check_gradebook(course)
    if not course.students(args.assignment):
        print(f"attune grade: no submissions of {args.assignment} in {root / course.submitted}; collect them first "
              "(nbgrader collect or zip_collect).", file=sys.stderr)
        return 2
    if args.static:
        summary = grade_static(course, args.assignment, progress=not args.quiet)
        print("\n".join(summary.lines()))
        return 0
    if args.compare:
        result = compare(course, args.assignment)
        print(f"Compared {result.compared} notebook(s) graded by running them with their answers as written.")
        for difference in result.differences:
            print(f"  DIFFERS  {difference.line()}")
        if result.static_only:
            print(f"{len(result.static_only)} notebook(s) were graded statically only (nothing ran, so nothing to "
                  "compare): run `attune grade` without --static to run them.")
        if result.ungraded:
            print(f"{len(result.ungraded)} notebook(s) are not graded yet: " + ", ".join(result.ungraded))
        if result.differences:
            print(f"{len(result.differences)} cell(s) differ; each is flagged for review in formgrader (its test "
                  "cell needs a score and says what differed) and in `attune report`.")
        else:
            print("No differences.")
        if result.attention:
            print(f"Needs your attention ({len(result.attention)}):")
            for item in result.attention:
                where = f" {item.where}" if item.where else ""
                print(f"  {item.kind.upper()}  {item.student} {item.assignment}{where}: {item.detail}")
        else:
            print("Nothing needs attention.")
        return 3 if result.differences or result.attention else 0
    summary = grade_executed(course, args.assignment, workers=args.workers, scheduler=args.scheduler,
                             force=args.force, progress=not args.quiet, db_override=args.db)
    print("\n".join(summary.lines()))
    return 1 if summary.incomplete else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograder.demo import describe, run_demo

    exercises = [e.strip() for e in args.exercises.split(",")] if args.exercises else None
    result = run_demo(course_root(), Path(args.dest), trainees=args.trainees, exercises=exercises, seed=args.seed,
                      force=args.force)
    print(describe(result))
    return 0


def _with_bin_on_path(path: str | None = None) -> str:
    # nbgrader starts `alembic` as a subprocess; it must be found next to this Python.
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "") if path is None else path])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="attune", description="Attune: a Jupyter course in empathic communication.")
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="open the course in JupyterLab (other options go to `jupyter lab`)")
    lab.add_argument("--instructor", action="store_true",
                     help="keep nbgrader's instructor tools (Formgrader, Create Assignment, ...); by default the "
                          "self-paced learner's view has none of nbgrader's tools")
    lab.set_defaults(func=cmd_lab)
    practice = sub.add_parser("practice", help="open the practice notebook: short items with feedback, chosen "
                                               "from your own history (other options go to `jupyter lab`)")
    practice.set_defaults(func=cmd_practice)
    init = sub.add_parser("init", help="make a course folder of your own (content, exercises, keys, nbgrader config)")
    init.add_argument("folder", help="the folder to create (it must not exist, or be empty)")
    init.add_argument("--course-id", help="nbgrader's course id (default: the folder's name)")
    init.add_argument("--include", default="ex00",
                      help="shipped exercises to include by id, comma-separated (default: ex00; '' for none)")
    init.add_argument("--own-rubric", action="store_true",
                      help="start the course's own rubric (content/rubric.yaml) from a copy of the shipped one")
    init.set_defaults(func=cmd_init)
    imp = sub.add_parser("import", help="make transcripts of your course from text, WebVTT, SRT, Word or a CSV corpus")
    formats = imp.add_subparsers(dest="format", required=True)
    one = argparse.ArgumentParser(add_help=False)  # what the one-transcript formats share
    one.add_argument("file", help="the file to import")
    one.add_argument("--id", required=True, help="the transcript's id (and file name), e.g. maya-first-session")
    one.add_argument("--listener", required=True, metavar="NAME[,NAME]",
                     help="the listener's speaker label(s) as written in the file, e.g. Counsellor or \"Speaker 1\"")
    one.add_argument("--client", metavar="NAME", help="the client's label (default: the one other speaker)")
    one.add_argument("--title", help="the transcript's title (default: from the id)")
    one.add_argument("--tier", choices=["beginner", "intermediate", "advanced"], default="beginner")
    one.add_argument("--context", help="who the client is, where they talk and what brought them")
    one.add_argument("--names", metavar="CSV", help="pseudonymise: a CSV of real name,pseudonym (header optional)")
    one.add_argument("--force", action="store_true", help="replace the transcript if it exists")
    for name, text in (("text", "plain text with speaker labels"), ("vtt", "WebVTT from a recorded video call"),
                       ("srt", "SubRip subtitles"), ("docx", "a Word document")):
        formats.add_parser(name, parents=[one], help=text).set_defaults(func=cmd_import)
    corpus = formats.add_parser("csv", help="transcripts (and key drafts) from a research corpus in CSV or TSV, "
                                            "one row per utterance")
    corpus.add_argument("file", help="the corpus file (.csv, .tsv; UTF-8, the delimiter is detected)")
    corpus.add_argument("--transcript-col", required=True, metavar="COLUMN", help="the column of transcript ids")
    corpus.add_argument("--position-col", required=True, metavar="COLUMN",
                        help="the column of each utterance's position (a whole number: the turn order)")
    corpus.add_argument("--speaker-col", required=True, metavar="COLUMN", help="the column of speaker labels")
    corpus.add_argument("--text-col", required=True, metavar="COLUMN", help="the column of utterance texts")
    corpus.add_argument("--listener", required=True, metavar="L[,L]",
                        help="the speaker labels of the listener (therapist, counsellor), comma-separated")
    corpus.add_argument("--client", required=True, metavar="C[,C]", help="the speaker labels of the client")
    corpus.add_argument("--annotator-col", metavar="COLUMN",
                        help="the column of annotator ids, where rows repeat once per annotator")
    corpus.add_argument("--key-annotator", metavar="NAME",
                        help="whose codes become the key drafts (the others' become second-coding records)")
    corpus.add_argument("--mapping", metavar="YAML", help="label values -> the rubric's codes and empathy levels "
                                                          "(without it, only the transcripts are written)")
    corpus.add_argument("--prefix", default="corpus", help="prefix of the transcript ids (default: corpus)")
    corpus.add_argument("--tier", choices=["beginner", "intermediate", "advanced"], default="intermediate")
    corpus.add_argument("--names", metavar="CSV", help="pseudonymise: a CSV of real name,pseudonym (header optional)")
    corpus.add_argument("--force", action="store_true", help="replace files written by an earlier import")
    corpus.set_defaults(func=cmd_import_csv)
    validate = sub.add_parser("validate", help="check the rubric, transcripts and scenarios")
    validate.set_defaults(func=cmd_validate)
    second = sub.add_parser("second-coding", help="a blind coding notebook of a transcript for a colleague; "
                                                  "--collect turns it into a second-coding record")
    second.add_argument("transcript", help="the transcript id")
    second.add_argument("--coder", required=True, help="the second coder's name (it names the files)")
    second.add_argument("--collect", metavar="FILE", help="their saved notebook (.ipynb) or a YAML file of codes: "
                                                         "write keys/second-coding/TRANSCRIPT.CODER.yaml")
    second.add_argument("--force", action="store_true", help="replace the notebook or record if it exists")
    second.set_defaults(func=cmd_second_coding)
    agree = sub.add_parser("agreement", help="agreement of the keys with their blind second codings, and every "
                                             "disagreement with whether it is resolved")
    agree.add_argument("transcripts", nargs="*", help="transcript ids (default: every record of the course)")
    agree.add_argument("--open-fails", action="store_true", help="exit 3 if a disagreement is still open")
    agree.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)")
    agree.add_argument("--seed", type=int, default=20240614, help="bootstrap seed (default 20240614)")
    agree.set_defaults(func=cmd_agreement)
    build = sub.add_parser("build", help="write solutions/exNN notebooks from exercises.yaml, content and keys")
    build.add_argument("assignments", nargs="*", help="exercise ids (default: all)")
    build.add_argument("--allow-open", action="append", default=[], metavar="TRANSCRIPT",
                       help="build although this transcript's second coding has undecided disagreements (repeatable)")
    build.set_defaults(func=cmd_build)
    exercises = sub.add_parser("exercises", help="regenerate exercises/ from solutions/ with nbgrader")
    exercises.add_argument("assignments", nargs="*", help="assignment names (default: all in solutions/)")
    exercises.set_defaults(func=cmd_exercises)
    demo = sub.add_parser("demo", help="simulate a cohort through the real nbgrader steps and write the report")
    demo.add_argument("--trainees", type=int, default=30)
    demo.add_argument("--exercises", default="", help="comma-separated exercise ids (default: ex01,ex03)")
    demo.add_argument("--dest", default="attune-demo", help="the course folder to create (default: ./attune-demo)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--force", action="store_true", help="replace --dest if it exists")
    demo.set_defaults(func=cmd_demo)
    grade = sub.add_parser("grade", help="grade an assignment's submissions into the gradebook (see --static)")
    grade.add_argument("assignment", help="the assignment id, e.g. ex01")
    how = grade.add_mutually_exclusive_group()
    how.add_argument("--static", action="store_true",
                     help="score the answers as written without running any notebook (fast, tamper-proof)")
    how.add_argument("--compare", action="store_true",
                     help="list cells whose executed score differs from the answers as written; flag them")
    grade.add_argument("--workers", type=int, default=1, help="local nbgrader autograde processes (default 1)")
    grade.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:8786) to run the shards on")
    grade.add_argument("--force", action="store_true", help="grade again submissions that are already graded")
    _gradebook_flags(grade)
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.set_defaults(func=cmd_grade)
    for name, func, text in (("report", cmd_report, "the cohort report, per-trainee debriefs and CSV exports"),
                             ("certify", cmd_certify, "who meets the agreement thresholds, and why not"),
                             ("export", cmd_export, "CSV exports: totals, items, trainees, a Canvas import")):
        verb = sub.add_parser(name, help=text)
        verb.add_argument("assignments", nargs="*", help="assignment ids (default: all in the gradebook)")
        _gradebook_flags(verb)
        verb.add_argument("--out", help="output folder (a CSV file for certify)")
        verb.add_argument("--code-kappa", type=float, default=0.60)
        verb.add_argument("--rating-kappa", type=float, default=0.60)
        verb.add_argument("--score", type=float, default=0.70)
        verb.add_argument("--max-leniency", type=float, default=0.75)
        verb.add_argument("--min-items", type=int, default=10)
        if name == "report":
            verb.add_argument("--no-feedback", action="store_true", help="skip the per-trainee debrief pages")
        verb.set_defaults(func=func)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("lab", "practice"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    # nbgrader's gradebook runs `alembic` as a subprocess: it must be found next to this Python.
    os.environ["PATH"] = _with_bin_on_path()
    try:
        if args.command != "init":
            enter_course(Path(args.course).resolve() if getattr(args, "course", None) else course_root())
        return args.func(args)
    except AttuneError as err:  # the one place where our errors become a message and an exit code
        print(f"attune {args.command}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
