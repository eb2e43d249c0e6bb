"""The practice session and progress widgets driven in the test process (ipywidgets need no browser): a session
of the chosen length, every answer kept at once, feedback with the reason and the rubric's words, support after a
sensitive item, an unanswered item refused, the progress view's numbers, export, reset, and the instructor's
summary only where the course switches it on."""

from __future__ import annotations

import csv
import html
import json

import pytest

from course.practice import SHIPPED_PRACTICE, CodeItem, load_bank
from course.practice_store import PracticeStore
from course.rubric import load_rubric
from course.widgets.practice import Practice, PracticeProgress, share_summary_enabled


@pytest.fixture
def store(tmp_path):
    with PracticeStore(tmp_path / "history.sqlite3") as opened:
        yield opened


@pytest.fixture(scope="module")
def bank():
    return load_bank([SHIPPED_PRACTICE])


def answer_first_options(practice: Practice) -> None:
    for control in practice._controls.children:
        options = [value for _label, value in control.options if value is not None]
        control.value = options[0]


def test_a_session_keeps_every_answer_and_explains_each(store, bank):
    practice = Practice(store=store, bank=bank, seed=3)
    practice._length.value = 5
    practice._on_start(None)
    for number in range(1, 6):
        assert f"Item {number} of 5" in practice._status.value
        item = bank.items[practice._item_id]
        answer_first_options(practice)
        practice._on_check(None)
        assert len(store.history()) == number  # kept before the feedback shows
        feedback = practice._feedback.value
        assert "Why:" in feedback and html.escape(item.why) in feedback
        if isinstance(item, CodeItem):  # the rubric's definition of the reference code decides it
            assert html.escape(load_rubric().code(item.reference.code).definition) in feedback
        assert all(control.disabled for control in practice._controls.children)
        practice._on_next(None)
    assert "Session done" in practice._status.value
    assert [r.session_id for r in store.history()] == [practice._session] * 5


def test_an_unanswered_item_is_not_judged(store, bank):
    practice = Practice(store=store, bank=bank, seed=3)
    practice._on_start(None)
    practice._on_check(None)
    assert "Choose" in practice._feedback.value and store.history() == []


def test_a_sensitive_item_is_followed_by_where_to_find_support(store, bank):
    practice = Practice(store=store, bank=bank, seed=3)
    practice._on_start(None)
    sensitive = next(i for i, item in bank.items.items() if item.sensitive)
    practice._item_id = sensitive
    practice._controls.children = practice._answer_controls(bank.items[sensitive], bank.kind_of[sensitive])
    answer_first_options(practice)
    practice._on_check(None)
    assert "attune-resources" in practice._feedback.value


def test_without_the_bank_the_learner_is_told_why(store, tmp_path):
    practice = Practice(store=store, bank=load_bank([tmp_path]))
    assert "practice bank" in practice._status.value and practice.widget.children[1].layout.display == "none"


def test_progress_export_reset_and_the_optional_summary(store, bank, tmp_path, monkeypatch):
    practice = Practice(store=store, bank=bank, seed=5)
    practice._on_start(None)
    for _ in range(3):
        answer_first_options(practice)
        practice._on_check(None)
        practice._on_next(None)
    monkeypatch.chdir(tmp_path)
    progress = PracticeProgress(store=store, bank=bank)
    assert "3 answers" in progress._view.value and progress._view.value.count("<figure") >= 2
    assert not share_summary_enabled() and len(progress.widget.children[1].children) == 3  # off by default
    progress._on_export(None)
    (exported,) = tmp_path.glob("practice-history-*.csv")
    assert len(list(csv.DictReader(exported.open()))) == 3
    progress._on_reset(None)
    assert store.history() != []  # asking is not doing
    progress._on_confirm(None)
    assert store.history() == [] and "No answers yet" in progress._view.value
    assert len(list(tmp_path.glob("*.sqlite3"))) >= 2  # the archived copy beside the history

    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "practice.yaml").write_text("share_summary: true\n")
    from course.library import using

    with using(tmp_path / "content"):
        assert share_summary_enabled()
        shared = PracticeProgress(store=store, bank=bank)
        shared._on_share(None)
    summary = json.loads((tmp_path / "practice-summary.json").read_text())
    assert summary["attempts"] == 0 and "given" not in json.dumps(summary)  # counts only
