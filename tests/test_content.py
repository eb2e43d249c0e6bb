"""Content files are data validated by a schema; broken ones fail naming file, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from course.loading import ContentError
from course.rubric import RUBRIC_PATH, load_rubric
from course.scenario import SCENARIOS_DIR, Walk, load_scenario
from course.transcript import TRANSCRIPTS_DIR, load_transcript


def test_the_course_rubric_is_valid_and_complete():
    rubric = load_rubric()
    needed = {"OQ", "CQ", "SR", "CR", "AF", "GI", "AD", "CO"}  # questions, reflections, affirm, info, advice, confront
    assert needed <= set(rubric.code_ids)
    assert rubric.empathy_levels == (1, 2, 3, 4, 5)
    assert all(c.definition and c.example for c in rubric.codes)
    ruled = {code for rule in rubric.decision_rules for code in rule.codes}
    assert {"SR", "CR", "VA", "RS", "AF", "OQ", "CQ"} <= ruled


@pytest.mark.parametrize("path", sorted(TRANSCRIPTS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_transcript_is_valid(path):
    transcript = load_transcript(path)
    # content-guide: 8-20 listener turns; the capstone's calibration transcript may be longer.
    longest = 30 if transcript.id.endswith("-calibration") else 20
    assert 8 <= len(transcript.therapist_turns) <= longest


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_scenario_is_valid_and_uses_rubric_codes(path):
    scenario = load_scenario(path)
    codes = set(load_rubric().code_ids)
    options = [o for node in scenario.nodes.values() for o in node.options]
    assert {o.code for o in options} <= codes
    points = [n for n in scenario.nodes.values() if not n.end]
    assert len(points) >= 3 and all(3 <= len(n.options) <= 4 for n in points)
    for node in points:
        assert {"strong", "roadblock"} <= {o.kind for o in node.options}
        assert len({o.next for o in node.options}) > 1, "the client's next words must depend on the choice"


def _broken_copy(tmp_path: Path, source: Path, edit) -> Path:
    data = yaml.safe_load(source.read_text())
    edit(data)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def _assert_named(tmp_path: Path, source: Path, load, edit, expected: list[str]) -> None:
    path = _broken_copy(tmp_path, source, edit)
    with pytest.raises(ContentError) as err:
        load(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message


def _del(mapping, key):
    del mapping[key]


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: _del(d["codes"][3], "definition"), ["codes[3] (id 'CR').definition", "Field required"]),
    (lambda d: d["codes"][0].update(id="oq"), ["codes[0] (id 'oq').id", "pattern"]),
    (lambda d: d["codes"][1].update(id="OQ"), ["repeated: OQ"]),
    (lambda d: d["codes"][2].update(colour="red"), ["codes[2] (id 'SR').colour", "unknown field"]),
    (lambda d: d["empathy"]["levels"][2].update(level=7), ["empathy.levels", "1, 2, 3, 4, 5", "found [1, 2, 7, 4, 5]"]),
    (lambda d: d["decision_rules"][0]["codes"].append("ZZ"), ["unknown code(s): ZZ"]),
])
def test_a_broken_rubric_names_file_entry_and_field(tmp_path, edit, expected):
    _assert_named(tmp_path, RUBRIC_PATH, load_rubric, edit, expected)


TRANSCRIPT = TRANSCRIPTS_DIR / "amira-night-shifts.yaml"


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["turns"][1].update(speaker="narrator"), ["turns[1] (id 'T1').speaker"]),
    (lambda d: d["turns"][1].update(id="C99"), ["turns[1] (id 'C99')", "must start with 'T'"]),
    (lambda d: d["turns"][3].update(id="T1"), ["repeated: T1"]),
    (lambda d: _del(d["turns"][2], "text"), ["turns[2] (id 'C2').text", "Field required"]),
    (lambda d: d.update(tier="expert"), ["tier", "beginner"]),
])
def test_a_broken_transcript_names_file_entry_and_field(tmp_path, edit, expected):
    _assert_named(tmp_path, TRANSCRIPT, load_transcript, edit, expected)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "amira-night-shifts.yaml"
    path.write_text("id: x\nturns:\n  - id: C1\n   speaker: client\n")
    with pytest.raises(ContentError, match=r"amira-night-shifts.yaml: line \d+"):
        load_transcript(path)


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "amira-night-shifts.yaml"
    path.write_text(TRANSCRIPT.read_text().replace("tier: beginner", "tier: beginner\ntier: advanced", 1))
    with pytest.raises(ContentError, match=r"line 4.*'tier' appears twice.*first on line 3"):
        load_transcript(path)


def test_scenario_id_must_match_its_file_name(tmp_path):
    path = tmp_path / "someone-else.yaml"
    path.write_text((SCENARIOS_DIR / "mateus-first-term.yaml").read_text())
    with pytest.raises(ContentError, match="must match the file name"):
        load_scenario(path)


def test_transcript_id_must_match_its_file_name(tmp_path):
    path = _broken_copy(tmp_path, TRANSCRIPT, lambda d: d.update(id="someone-else"))
    with pytest.raises(ContentError, match="must match the file name"):
        load_transcript(path)


def test_unknown_transcript_id_lists_the_known_ones():
    with pytest.raises(ContentError, match="amira-night-shifts"):
        load_transcript("nobody-here")


def test_a_walk_follows_choices_and_replays_a_recorded_path():
    scenario = load_scenario(next(SCENARIOS_DIR.glob("*.yaml")))
    walk = Walk(scenario)
    while not walk.finished:
        walk.choose(0)
    path, openness = walk.path(), walk.openness
    again = Walk(scenario)
    assert again.replay(path) == [] and again.openness == openness and again.finished
    assert again.replay(["nowhere:0"]) and again.steps == []
