"""`attune second-coding` and `attune agreement` on a small course of one's own: a blind notebook with no key in it,
the colleague's answers collected into a second-coding record, agreement numbers that are core.agreement's (and the
krippendorff package's), every disagreement listed, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import krippendorff
import numpy as np
import pytest
import yaml
from conftest import ROOT

from autograder.authoring.course_folder import init_course
from autograder.cli import main
from autograder.core.agreement import (
    adjacent_agreement,
    bootstrap_interval,
    cohen_kappa,
    kappa_from_table,
    krippendorff_alpha,
    percent_agreement,
)
from autograder.core.literals import answers_in_notebook, read_notebook
from autograder.instructor.agreement_report import SEED, agreement, agreement_report, course_records
from autograder.instructor.second_coding import load_record, load_records
from course.widgets.recorder import answer_cell_text

TRANSCRIPT = "example-first-call"
KEY = {
    "T1": {"code": "OQ", "empathy": 3, "why": "Confirms the number, then asks what the letter says as Nadia "
                                              "understood it, leaving the whole answer to her."},
    "T2": {"code": "SR", "empathy": 3, "why": "Hands back the forty pounds, the pension and the cleaning job in her "
                                              "own words and adds nothing."},
    "T3": {"code": "CR", "empathy": 4, "why": "Adds what she only implied: the letters were Karim's, and this one "
                                              "landed on her with the grief."},
    "T4": {"code": "AF", "empathy": 4, "why": "Credits the call itself, made despite feeling silly, after a week of "
                                              "putting it off."},
}
ANA = {"T1": {"code": "OQ", "empathy": 3}, "T2": {"code": "SR", "empathy": 2}, "T3": {"code": "SR", "empathy": 3},
       "T4": {"code": "AF", "empathy": 4}}
BEN = {"T1": {"code": "CQ", "empathy": 2}, "T2": {"code": "SR", "empathy": 3}, "T3": {"code": "CR", "empathy": 5},
       "T4": {"code": "AF", "empathy": 4}}
RESAMPLES = ["--resamples", "300"]


def key_text(key: dict) -> str:
    lines = ["# The reference answers for the example call. Keys are never released.", f"transcript: {TRANSCRIPT}",
             "turns:"]
    for turn, entry in key.items():
        lines += [f"  # {turn}: the listener's turn", f"  {turn}:", f"    code: {entry['code']}",
                  f"    empathy: {entry['empathy']}", f"    why: {json.dumps(entry['why'])}"]
    return "\n".join(lines) + "\n"


def make_coded_course(tmp: Path) -> Path:
    """A course of one's own (attune init, nothing included) whose example transcript has a written key."""
    course = init_course(tmp / "course", include=[])
    (course / "solutions" / "first-call" / "keys" / f"{TRANSCRIPT}.yaml").write_text(key_text(KEY), encoding="utf-8")
    return course


def answered(notebook: Path, answers: dict, out: Path) -> Path:
    """The colleague's saved notebook: the answer cell as the form writes it."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == "answers")
    cell["source"] = answer_cell_text("coding", answers)
    out.write_text(json.dumps(nb), encoding="utf-8")
    return out


def second_coded(course: Path, coder: str, answers: dict) -> Path:
    """Run `attune second-coding` for ``coder``, answer the notebook, collect it; the record's path."""
    assert main(["second-coding", TRANSCRIPT, "--coder", coder]) == 0
    slug = coder.lower().replace(" ", "-")
    notebook = course / "second-coding" / f"{TRANSCRIPT}-{slug}.ipynb"
    returned = answered(notebook, answers, course.parent / f"returned-{slug}.ipynb")
    assert main(["second-coding", TRANSCRIPT, "--coder", coder, "--collect", str(returned)]) == 0
    return course / "keys" / "second-coding" / f"{TRANSCRIPT}.{slug}.yaml"


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    course = make_coded_course(tmp_path)
    monkeypatch.chdir(course)
    return course


def test_the_blind_notebook_has_the_transcript_and_the_form_and_nothing_of_the_key(course, capsys):
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ana Lima"]) == 0
    path = course / "second-coding" / f"{TRANSCRIPT}-ana-lima.ipynb"
    assert "second-coding/example-first-call-ana-lima.ipynb" in capsys.readouterr().out
    text = path.read_text(encoding="utf-8")
    for entry in KEY.values():
        assert entry["why"] not in text
        assert json.dumps(entry["why"]) not in text
    for fragment in ("REFERENCE", "BEGIN SOLUTION", "HIDDEN", "check(", "keys/"):
        assert fragment not in text
    nb = read_notebook(path)
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert any(f'AnswerForm("{TRANSCRIPT}", variable="coding")' in s for s in sources)
    assert answers_in_notebook(nb, "coding").value == {}  # nothing pre-filled, not even a guess
    assert all(not c.get("outputs") for c in nb["cells"])
    # A second run does not overwrite a notebook a colleague may be coding in.
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ana Lima"]) == 1
    assert "--force" in capsys.readouterr().err


def test_collect_writes_the_record_with_the_key_as_it_is_now(course, capsys):
    record_path = second_coded(course, "Ana Lima", ANA)
    record = yaml.safe_load(record_path.read_text(encoding="utf-8"))
    assert record["transcript"] == TRANSCRIPT
    assert record["first"] == {t: {"code": v["code"], "empathy": v["empathy"]} for t, v in KEY.items()}
    assert record["second"] == ANA
    assert record["resolutions"] == {}
    # load_records understands <transcript>.<coder>.yaml: the transcript id is the part before the first dot.
    loaded = load_record(record_path)
    assert (loaded["transcript"], loaded["coder"], loaded["name"], loaded["exercise"]) == (
        TRANSCRIPT, "ana-lima", f"{TRANSCRIPT}.ana-lima", None)
    solutions = course.parent / "elsewhere" / "solutions"
    (solutions / "first-call" / "keys" / "second-coding").mkdir(parents=True)
    shutil.copy(record_path, solutions / "first-call" / "keys" / "second-coding" / record_path.name)
    shutil.copy(record_path, solutions / "first-call" / "keys" / "second-coding" / f"{TRANSCRIPT}.yaml")
    old_and_new = load_records(solutions)
    assert sorted(old_and_new) == [TRANSCRIPT, f"{TRANSCRIPT}.ana-lima"]
    assert {r["transcript"] for r in old_and_new.values()} == {TRANSCRIPT}
    assert {r["exercise"] for r in old_and_new.values()} == {"first-call"}
    # Collecting again would lose its resolutions: refused without --force.
    returned = course.parent / "returned-ana-lima.ipynb"
    capsys.readouterr()
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ana Lima", "--collect", str(returned)]) == 1
    assert "exists" in capsys.readouterr().err


def test_collect_refuses_an_incomplete_or_off_rubric_coding_and_reads_yaml(course, capsys):
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ben"]) == 0
    notebook = course / "second-coding" / f"{TRANSCRIPT}-ben.ipynb"
    partial = answered(notebook, {"T1": {"code": "OQ", "empathy": 3}, "T2": {"code": "XX", "empathy": 9}},
                       course.parent / "partial.ipynb")
    capsys.readouterr()
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ben", "--collect", str(partial)]) == 1
    err = capsys.readouterr().err
    assert "T2: code 'XX' is not in the rubric" in err and "T3: not coded" in err and "T4: not coded" in err
    assert not (course / "keys" / "second-coding").exists()
    as_yaml = course.parent / "ben.yaml"
    as_yaml.write_text(yaml.safe_dump(BEN), encoding="utf-8")
    assert main(["second-coding", TRANSCRIPT, "--coder", "Ben", "--collect", str(as_yaml)]) == 0
    record = yaml.safe_load((course / "keys" / "second-coding" / f"{TRANSCRIPT}.ben.yaml").read_text())
    assert record["second"] == BEN


def codes_and_levels(first: dict, second: dict) -> tuple[list, list, list, list]:
    turns = list(first)
    return ([first[t]["code"] for t in turns], [second[t]["code"] for t in turns],
            [first[t]["empathy"] for t in turns], [second[t]["empathy"] for t in turns])


def test_agreement_numbers_are_the_cores_and_alpha_is_the_krippendorff_packages(course, capsys):
    second_coded(course, "Ana Lima", ANA)
    second_coded(course, "Ben", BEN)
    records = course_records(course)
    assert [r["name"] for r in records] == [f"{TRANSCRIPT}.ana-lima", f"{TRANSCRIPT}.ben"]
    levels = (1, 2, 3, 4, 5)
    pooled_first, pooled_second = {}, {}
    for r in records:
        pooled_first |= {f"{r['name']}:{t}": v for t, v in r["first"].items()}
        pooled_second |= {f"{r['name']}:{t}": v for t, v in r["second"].items()}
    for first, second in [(r["first"], r["second"]) for r in records] + [(pooled_first, pooled_second)]:
        a = agreement(first, second, levels, resamples=300)
        ca, cb, ea, eb = codes_and_levels(first, second)
        assert a.code_percent == percent_agreement(ca, cb)
        assert a.code_kappa.value == pytest.approx(cohen_kappa(ca, cb))
        assert a.empathy_exact == percent_agreement(ea, eb)
        assert a.empathy_adjacent == adjacent_agreement(ea, eb)
        assert a.empathy_weighted_kappa.value == pytest.approx(
            cohen_kappa(ea, eb, weights="quadratic", categories=levels))
        numeric = {c: i for i, c in enumerate(sorted(set(ca) | set(cb)))}
        as_numbers = np.array([[numeric[c] for c in ca], [numeric[c] for c in cb]], dtype=float)
        assert a.code_alpha.value == pytest.approx(krippendorff_alpha([ca, cb]))
        assert a.code_alpha.value == pytest.approx(krippendorff.alpha(reliability_data=as_numbers,
                                                                      level_of_measurement="nominal"))
        for level, stat in (("ordinal", a.empathy_alpha_ordinal), ("interval", a.empathy_alpha_interval)):
            assert stat.value == pytest.approx(krippendorff_alpha([ea, eb], level))
            assert stat.value == pytest.approx(krippendorff.alpha(reliability_data=np.array([ea, eb], dtype=float),
                                                                  level_of_measurement=level))
        interval = bootstrap_interval(ea, eb, lambda t: kappa_from_table(t, "quadratic"), categories=levels,
                                      resamples=300, seed=SEED)
        assert (a.empathy_weighted_kappa.low, a.empathy_weighted_kappa.high) == (interval.low, interval.high)
    # The printed report shows those numbers, says how the intervals were made, and exits 0.
    capsys.readouterr()
    assert main(["agreement", *RESAMPLES]) == 0
    out = capsys.readouterr().out
    assert "95% percentile bootstrap over turns (300 resamples, seed 20240614)" in out
    ana = agreement(records[0]["first"], records[0]["second"], levels, resamples=300)
    assert f"Cohen's kappa {ana.code_kappa.text()}" in out
    assert f"weighted kappa (quadratic) {ana.empathy_weighted_kappa.text()}" in out
    assert f"Krippendorff's alpha (ordinal) {ana.empathy_alpha_ordinal.text()}" in out
    assert "pooled over 2 records · 8 turns" in out
    # The same seed gives the same report.
    assert main(["agreement", *RESAMPLES]) == 0
    assert capsys.readouterr().out == out


def test_every_disagreement_is_listed_side_by_side_and_open_ones_fail_on_request(course, capsys):
    second_coded(course, "Ana Lima", ANA)
    capsys.readouterr()
    assert main(["agreement", TRANSCRIPT, *RESAMPLES]) == 0
    out = capsys.readouterr().out
    assert "Disagreements: 2 turn(s), 2 open" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(f"{TRANSCRIPT}.ana-lima  T")]
    assert [r[1:6] for r in rows] == [["T2", "empathy", "3", "2", "OPEN"], ["T3", "code", "CR", "SR", "OPEN"],
                                      ["T3", "empathy", "4", "3", "OPEN"]]
    assert any("Forty pounds more a month" in line for line in out.splitlines())
    assert all(len(line) < 200 for line in out.splitlines())  # the turn's text is shortened
    assert main(["agreement", TRANSCRIPT, "--open-fails", *RESAMPLES]) == 3
    report = agreement_report(course, [TRANSCRIPT], resamples=100)
    assert (report.open, report.disagreements) == (2, 2)
    assert main(["agreement", "no-such-transcript"]) == 1
    assert "no second-coding record of no-such-transcript" in capsys.readouterr().err


def test_the_shipped_course_agreement_runs_and_has_nothing_open(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["agreement", "--open-fails", "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "rafael-school-counsellor" in out and "resolved: GI 3" in out and " 0 open" in out
