"""The practice bank (solutions/practice/, course/practice.py): every item valid against the rubric and
vocabularies in force, ids unique and stable, the bank big and broad enough to practise on, and the loader's
rules (one id once, a copy of the shipped bank is no clash, an own rubric practises on its own items)."""

from __future__ import annotations

import collections
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from course.loading import ContentError
from course.practice import (
    KINDS,
    SHIPPED_PRACTICE,
    CodeItem,
    load_bank,
    load_practice_set,
    practice_folders,
)

IDS_FILE = SHIPPED_PRACTICE / "ids.txt"  # every id ever published: a learner's history is keyed by them
CONFUSED = ("SR", "CR", "OQ", "CQ", "VA", "RS", "AF", "GI", "AD")  # the codes trainees mix up most
TIERS = ("beginner", "intermediate", "advanced")


@pytest.fixture(scope="module")
def bank():
    return load_bank([SHIPPED_PRACTICE])


def test_the_bank_is_big_and_broad(bank):
    assert len(bank.items) >= 500
    kinds = collections.Counter(bank.kind_of.values())
    assert set(kinds) == set(KINDS), kinds
    codes = collections.Counter(i.reference.code for i in bank.items.values() if isinstance(i, CodeItem))
    short = {c: codes[c] for c in CONFUSED if codes[c] < 20}
    assert not short, f"fewer than 20 items: {short}"
    from course.rubric import load_rubric

    assert set(codes) == set(load_rubric().code_ids), "every rubric code has practice items"
    for kind in KINDS:
        tiers = collections.Counter(i.tier for i in bank.of_kind(kind))
        assert all(tiers[t] >= 5 for t in TIERS), (kind, tiers)
    settings = collections.Counter(i.setting for i in bank.items.values())
    assert len(settings) >= 10 and max(settings.values()) < 0.35 * len(bank.items), settings


def test_every_item_has_a_reference_and_a_one_sentence_reason(bank):
    for item_id, item in bank.items.items():
        assert item.reference is not None and item.why.strip(), item_id
        assert item.why.rstrip()[-1] in ".!?'\")", item_id


def test_ids_are_stable_none_published_is_gone_and_new_ones_are_listed(bank):
    published = [line.strip() for line in IDS_FILE.read_text().splitlines() if line.strip()]
    assert len(published) == len(set(published))
    gone = sorted(set(published) - set(bank.items))
    assert not gone, f"published ids no longer in the bank (learners' histories use them): {gone[:10]}"
    unlisted = sorted(set(bank.items) - set(published))
    assert not unlisted, f"new ids: add them to {IDS_FILE.relative_to(ROOT)}: {unlisted[:10]}"


def test_sensitive_items_follow_safe_messaging(bank):
    words = ("suicid", "kill myself", "end my life", "end it all", "self-harm", "hurt myself", "not be here")
    for item_id, item in bank.items.items():
        text = " ".join(str(v) for v in item.model_dump().values()).lower()
        if any(w in text for w in words):
            assert item.sensitive, f"{item_id} touches suicide or self-harm: mark it sensitive"
        assert "committed suicide" not in text, item_id


def test_a_wrong_reference_names_the_file_and_the_item(tmp_path):
    (tmp_path / "mine.yaml").write_text(
        "id: mine\nkind: code\ntitle: Mine\nitems:\n"
        "  - id: cd-mine-001\n    tier: beginner\n    setting: helpline\n    who: \"Ana, 30, on a helpline\"\n"
        "    client: \"I can't sleep since the move.\"\n    response: \"You can't sleep.\"\n"
        "    reference: {code: ZZ, empathy: 3}\n    why: \"It repeats her words.\"\n")
    with pytest.raises(ContentError, match=r"mine\.yaml: cd-mine-001: code 'ZZ' is not in the rubric"):
        load_bank([tmp_path])


def test_two_sentences_in_why_are_refused(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("id: mine\nkind: refer\ntitle: Mine\nitems:\n"
                    "  - id: rf-mine-001\n    tier: beginner\n    setting: helpline\n    who: \"Bo, 40, a caller\"\n"
                    "    vignette: \"Bo says work is busy and he sleeps fine; he wanted to talk it through.\"\n"
                    "    reference: {decision: keep-listening}\n    why: \"No cue is present. Keep listening.\"\n")
    with pytest.raises(ContentError, match="ONE sentence"):
        load_practice_set(path)


def test_an_id_in_two_files_is_an_error_and_a_copy_of_the_shipped_bank_is_not(tmp_path):
    first = sorted(SHIPPED_PRACTICE.glob("*.yaml"))[0]
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy2(first, copy / first.name)
    assert len(load_bank([copy, SHIPPED_PRACTICE]).items) == len(load_bank([SHIPPED_PRACTICE]).items)
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    text = first.read_text().replace(f"id: {first.stem}\n", "id: other\n", 1)
    (renamed / "other.yaml").write_text(text)
    with pytest.raises(ContentError, match="also defined in"):
        load_bank([renamed, SHIPPED_PRACTICE])


def test_an_own_course_practises_on_its_own_items_and_with_its_own_rubric_only_on_those(tmp_path):
    course = tmp_path / "course"
    (course / "solutions" / "practice").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text("")
    assert practice_folders(course) == [course / "solutions" / "practice", SHIPPED_PRACTICE]
    (course / "content").mkdir()
    shutil.copy2(ROOT / "course" / "rubric.yaml", course / "content" / "rubric.yaml")
    assert practice_folders(course) == [course / "solutions" / "practice"]
    assert practice_folders(ROOT) == [SHIPPED_PRACTICE]  # the repository is the shipped course itself


def test_the_bank_is_not_in_the_package_data():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    entries = [e for v in data["package-data"].values() for e in v]
    assert not any("practice" in e and e.endswith((".yaml", ".yml")) for e in entries), "practice items hold answers"
    assert not any("solutions" in p for p in data["packages"])
    assert not Path(SHIPPED_PRACTICE).is_relative_to(ROOT / "course")


def test_every_item_is_second_coded_blind_and_every_disagreement_resolved(bank):
    from autograder.authoring.practice_coding import agreement_rows, problems, read_records

    records = read_records()
    assert problems(bank, records) == []
    rows = {(r["group"], r["name"]): r for r in agreement_rows(bank, records)}
    assert {name for group, name in rows if group == "code"} >= set(CONFUSED)  # agreement per code ...
    assert {name for group, name in rows if group == "tier (all items)"} == set(TIERS)  # ... and per tier
    recorded = (SHIPPED_PRACTICE / "second-coding" / "agreement.md").read_text()
    from autograder.authoring.practice_coding import agreement_markdown

    assert agreement_markdown(list(rows.values())) in recorded, "agreement.md is out of date: run the report"
