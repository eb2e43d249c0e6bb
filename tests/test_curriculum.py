"""The curriculum as a whole: every exercise item has a reference with a rationale and a tier, codes agree with
the words (questions are questions, reflections are statements, or the key says why not), lessons run in tier
order, and the course is as large as promised."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import ROOT

from autograder.authoring.build import KEYS_DIR, load_manifest
from autograder.instructor.second_coding import compare, load_records, report
from course import CONTENT_DIR
from course.items import ITEMS_DIR, TIER_ORDER, load_item_set
from course.parts import load_part
from course.rubric import load_rubric
from course.scenario import SCENARIOS_DIR, load_scenario
from course.transcript import TRANSCRIPTS_DIR, load_transcript

SOLUTIONS = ROOT / "solutions"
EXERCISES = load_manifest(SOLUTIONS).exercises
CODING_PARTS = [(e.id, p.part) for e in EXERCISES for p in e.parts if (TRANSCRIPTS_DIR / f"{p.part}.yaml").exists()]
QUESTIONS, REFLECTIONS = {"OQ", "CQ"}, {"SR", "CR"}


def key(exercise: str, part: str) -> dict:
    return yaml.safe_load((SOLUTIONS / exercise / KEYS_DIR / f"{part}.yaml").read_text())


@pytest.mark.parametrize(("exercise", "part"), CODING_PARTS, ids=[p for _, p in CODING_PARTS])
def test_questions_are_questions_and_reflections_are_statements_or_the_key_says_why(exercise, part):
    transcript = load_transcript(part)
    turns = key(exercise, part)["turns"]
    codes = set(load_rubric().code_ids)
    for turn in transcript.therapist_turns:
        entry = turns[turn.id]
        assert entry["code"] in codes, f"{part} {turn.id}: unknown code"
        assert len(entry["why"].split()) >= 8, f"{part} {turn.id}: the rationale names the cue"
        asks = "?" in turn.text
        if (entry["code"] in QUESTIONS and not asks) or (entry["code"] in REFLECTIONS and asks):
            assert entry.get("note"), (f"{part} {turn.id}: coded {entry['code']} but the words say otherwise "
                                       f"({turn.text!r}); fix the code or add a note why")


def test_every_transcript_in_the_course_is_used_by_an_exercise_and_keyed_once():
    used = [p for _, p in CODING_PARTS]
    on_disk = sorted(p.stem for p in TRANSCRIPTS_DIR.glob("*.yaml"))
    assert sorted(used) == on_disk, "a transcript without an exercise (or an exercise without a transcript)"
    assert len(used) == len(set(used))


def test_every_item_file_and_scenario_is_tiered_and_items_run_from_easy_to_hard():
    for path in sorted(ITEMS_DIR.glob("*.yaml")):
        tiers = [TIER_ORDER[i.tier] for i in load_item_set(path).items]
        assert tiers == sorted(tiers), path.name
    for path in sorted(SCENARIOS_DIR.glob("*.yaml")):
        assert load_scenario(path).tier in TIER_ORDER


def test_lessons_and_exercises_follow_the_modules_in_tier_order():
    # Besides the lessons, the folder holds the practice notebook (course/widgets/practice.py), which is no module.
    lessons = sorted(p for p in (CONTENT_DIR / "lessons").glob("*.ipynb") if p.name != "practice.ipynb")
    assert [p.name for p in lessons] == [e.lesson for e in EXERCISES], "one lesson per exercise, same order"
    assert [e.module for e in EXERCISES] == list(range(len(EXERCISES)))
    tiers = [TIER_ORDER[e.tier] for e in EXERCISES]
    assert tiers == sorted(tiers), "lessons are ordered by tier"
    for path, entry in zip(lessons, EXERCISES, strict=True):
        first = "".join(json.loads(path.read_text())["cells"][0]["source"])
        assert f"Module {entry.module} · {entry.tier.capitalize()}" in first, path.name


def test_lessons_play_scenarios_that_exist_and_point_misses_to_their_own_sections():
    played = set()
    for path in sorted((CONTENT_DIR / "lessons").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        text = ["".join(c["source"]) for c in nb["cells"]]
        headings = {line[3:].strip() for t in text for line in t.splitlines() if line.startswith("## ")}
        for t in text:
            if "ScenarioPlayer(" in t:
                scenario_id = t.split('ScenarioPlayer("')[1].split('"')[0]
                scenario = load_scenario(scenario_id)
                played.add(scenario_id)
                sections = {o.section for n in scenario.nodes.values() for o in n.options}
                assert sections <= headings, f"{path.name}: {sorted(sections - headings)} are not headings"
    assert played == {p.stem for p in SCENARIOS_DIR.glob("*.yaml")}, "every scenario is played in a lesson"


def test_the_curriculum_is_as_large_as_promised():
    coded_turns = sum(len(load_part(p).items) for _, p in CODING_PARTS)
    rating = load_item_set("response-rating").items
    scenarios = [load_scenario(p) for p in SCENARIOS_DIR.glob("*.yaml")]
    assert len(CODING_PARTS) >= 12 and coded_turns >= 150
    assert len(rating) >= 20
    assert len(scenarios) >= 6
    for s in scenarios:
        points = [n for n in s.nodes.values() if not n.end]
        assert s._fewest_choices() >= 3 and all(3 <= len(n.options) <= 4 for n in points)
        assert all(o.feedback for n in points for o in n.options)
    kinds = {load_part(p.part).kind for e in EXERCISES for p in e.parts if p.graded == "auto"}
    assert kinds == {"coding", "rating", "concerns", "referral", "metrics"}
    assert any(p.graded == "manual" for e in EXERCISES for p in e.parts), "free-text responses graded by hand"


def test_risk_scenarios_end_with_resources():
    for path in SCENARIOS_DIR.glob("*.yaml"):
        scenario = load_scenario(path)
        text = " ".join(n.client for n in scenario.nodes.values()).lower()
        if any(w in text for w in ("hurting myself", "hurt myself", "suicid", "end my life", "not be here")):
            endings = [n for n in scenario.nodes.values() if n.end]
            assert all(n.resources for n in endings), f"{path.name}: risk content must end with resources"


RECORDS = load_records(SOLUTIONS)


@pytest.mark.parametrize(("exercise", "part"), CODING_PARTS, ids=[p for _, p in CODING_PARTS])
def test_every_transcript_was_coded_twice_and_every_disagreement_resolved_into_the_key(exercise, part):
    assert part in RECORDS, f"{part}: no blind second coding in solutions/{exercise}/keys/second-coding/"
    record = RECORDS[part]
    assert record["exercise"] == exercise
    final = {t: {"code": v["code"], "empathy": v["empathy"]} for t, v in key(exercise, part)["turns"].items()}
    comparison = compare(record["first"], {t: {f: v[f] for f in ("code", "empathy")}
                                           for t, v in record["second"].items()})
    assert set(record["first"]) == set(final)
    resolutions = record.get("resolutions") or {}
    assert {t for t, *_ in comparison.disagreements} == set(resolutions), "resolve every disagreement, nothing else"
    for turn, value in final.items():
        if turn in resolutions:
            chosen = resolutions[turn]
            assert len(chosen["why"].split()) >= 10, f"{part} {turn}: say why"
            assert value == {"code": chosen["code"], "empathy": chosen["empathy"]}, f"{part} {turn}: key != resolution"
        else:
            assert value == record["first"][turn], f"{part} {turn}: the key changed without a recorded resolution"


def test_agreement_table_reports_every_exercise():
    table = report(SOLUTIONS)
    for entry in EXERCISES:
        assert any(line.startswith(f"{entry.id:<9}(pooled)") for line in table.splitlines()), entry.id


def test_exercises_that_touch_on_suicide_or_self_harm_show_the_support_resources():
    for entry in EXERCISES:
        texts = []
        for p in entry.parts:
            path = TRANSCRIPTS_DIR / f"{p.part}.yaml"
            texts.append(path.read_text() if path.exists() else (ITEMS_DIR / f"{p.part}.yaml").read_text())
        risky = any(w in t.lower() for t in texts for w in ("suicid", "hurting myself", "end my life", "self-harm"))
        if risky:
            nb = json.loads((SOLUTIONS / entry.id / entry.notebook).read_text())
            assert entry.resources, f"{entry.id}: risk content, so `resources: true` in exercises.yaml"
            assert any("show_resources()" in "".join(c["source"]) for c in nb["cells"]), entry.id


def test_session_summary_agrees_with_pandas_on_the_coded_sessions():
    """The hand-written metrics (used to build the key) against the pandas route the lesson teaches."""
    import pandas as pd

    from autograder.authoring.build import read_coded_session
    from autograder.core.metrics import session_summary

    for name in load_item_set("session-metrics").data:
        path = CONTENT_DIR / "data" / name
        rows = pd.read_csv(path)
        listener = rows[rows["speaker"] == "therapist"]
        counts = listener["code"].value_counts()
        n = counts.get
        expected = {
            "r_to_q": (n("SR", 0) + n("CR", 0)) / (n("OQ", 0) + n("CQ", 0)),
            "pct_cr": 100 * n("CR", 0) / (n("SR", 0) + n("CR", 0)),
            "mean_empathy": listener["empathy"].mean(),
            "pct_roadblocks": 100 * listener["code"].isin(["AD", "RS", "CO"]).mean(),
        }
        assert session_summary(*read_coded_session(path)) == pytest.approx(expected), name
