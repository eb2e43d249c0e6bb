"""The practice scheduler (autograder.core.practice_scheduler): deterministic, spaced, drawn to confusions, tiered."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import pytest

from autograder.core.practice_scheduler import (
    TIERS,
    Attempt,
    ItemInfo,
    PracticeState,
    SchedulerConfig,
    SkillRecord,
    choose_next,
    learner_progress,
)

CODES = ("SR", "CR", "OQ", "CQ", "VA", "RS", "AF", "GI", "AD", "AP")


def code_items(per_code: int = 6, tiers: tuple[str, ...] = ("beginner",), codes: tuple[str, ...] = CODES
               ) -> list[ItemInfo]:
    return [ItemInfo(f"cd-{code.lower()}-{tier[:3]}-{i}", tier, "code", code, code)
            for tier in tiers for code in codes for i in range(per_code)]


def right(item: ItemInfo) -> Attempt:
    return Attempt(item.id, item.answer, True)


def serve(items: list[ItemInfo], history: list[Attempt], steps: int, answer, seed: int = 0,
          config: SchedulerConfig | None = None) -> list[str]:
    """Serve `steps` items with the scheduler, answering with answer(item) -> Attempt; the ids served."""
    by_id = {i.id: i for i in items}
    state = PracticeState.replay(items, history, config or SchedulerConfig())
    served = []
    for _ in range(steps):
        item = by_id[state.choose(seed)]
        served.append(item.id)
        state.record(answer(item))
    return served


# -- determinism ---------------------------------------------------------------------------------------------------
def test_the_same_history_and_seed_give_the_same_item():
    items = code_items(tiers=TIERS)
    history = [right(items[0]), Attempt(items[1].id, "CR", False), right(items[7])]
    assert choose_next(items, history, seed=5) == choose_next(items, list(history), seed=5)
    assert choose_next(items, [], seed=5) == choose_next(list(reversed(items)), [], seed=5)  # not the bank's order


def test_different_seeds_give_different_items():
    items = code_items()
    chosen = Counter(choose_next(items, [], seed=s) for s in range(200))
    assert len(chosen) > 30
    assert max(chosen.values()) < 20


def test_replaying_and_recording_one_by_one_agree():
    items = code_items(tiers=TIERS)
    by_id = {i.id: i for i in items}
    state, history = PracticeState(items), []
    for step in range(120):
        expected = choose_next(items, history, seed=3)
        assert state.choose(3) == expected
        attempt = right(by_id[expected]) if step % 4 else Attempt(expected, "XX", False)
        history.append(attempt)
        state.record(attempt)
    assert learner_progress(items, history) == state.progress()


# -- spacing -------------------------------------------------------------------------------------------------------
def test_an_item_answered_wrongly_comes_back_sooner_than_one_answered_right():
    items = code_items()
    wrong_item, right_item = items[0], items[10]
    history = [Attempt(wrong_item.id, "CR", False), right(right_item)]
    served = serve(items, history, 40, right)
    came_back_wrong = served.index(wrong_item.id) + 1  # items answered since it, counting itself
    came_back_right = served.index(right_item.id)
    gaps = SchedulerConfig().gaps
    assert came_back_wrong == gaps[0]  # 3 other items, then it (one of them the right one, then 2 served here)
    assert came_back_right == gaps[1]  # 8 others after it: the wrong one, then 7 served here
    assert came_back_wrong < came_back_right


def test_due_items_come_before_new_ones_most_overdue_first():
    items = code_items()
    history = [Attempt(items[0].id, "CR", False), Attempt(items[1].id, "CR", False), right(items[20]),
               right(items[21]), right(items[22]), right(items[23])]
    progress = learner_progress(items, history)
    assert progress.due == (items[0].id, items[1].id)
    assert choose_next(items, history, seed=1) == items[0].id


# -- confusions ----------------------------------------------------------------------------------------------------
def test_a_confused_pair_is_served_more_than_its_share_of_the_pool():
    items = code_items()
    by_code = {code: [i for i in items if i.answer == code] for code in CODES}
    # SR answered CR four times, CR answered SR once; other codes answered right. Long gaps: nothing falls due, so
    # every choice is a draw.
    history = [Attempt(i.id, "CR", False) for i in by_code["SR"][:4]] + [Attempt(by_code["CR"][0].id, "SR", False)]
    history += [right(by_code[c][0]) for c in CODES[2:]]
    config = SchedulerConfig(gaps=(1000,))
    pool_share = 2 / len(CODES)

    def share(config: SchedulerConfig) -> float:
        state = PracticeState.replay(items, history, config)
        draws = [state.choose(seed) for seed in range(2000)]
        return sum(d.startswith(("cd-sr-", "cd-cr-")) for d in draws) / len(draws)

    confused, uniform = share(config), share(SchedulerConfig(gaps=(1000,), confusion_weight=0))
    assert uniform == pytest.approx(pool_share, abs=0.03)
    # Weight of SR and CR: 1 + 5 confusions each = 6, against 1 for the 8 others: 12/20 of the draws.
    assert confused == pytest.approx(12 / 20, abs=0.04)
    assert confused > 3 * pool_share
    assert learner_progress(items, history).confusions == {("CR", "SR"): 1, ("SR", "CR"): 4}


def test_the_pull_of_a_confusion_fades_once_it_stops():
    items = code_items()
    confusion = [Attempt("cd-sr-beg-0", "CR", False)]
    since = [right(i) for i in items if i.answer not in ("SR", "CR") and i.id.endswith(("-0", "-1"))]  # 16 right
    config = SchedulerConfig(gaps=(1000,), confusion_window=10)

    def share(history: list[Attempt]) -> float:
        state = PracticeState.replay(items, history, config)
        return sum(state.choose(seed).startswith(("cd-sr-", "cd-cr-")) for seed in range(1000)) / 1000

    assert share(confusion + since[:5]) == pytest.approx(4 / 12, abs=0.04)  # SR, CR weigh 2 each: 4/12 of draws
    assert share(confusion + since) == pytest.approx(2 / len(CODES), abs=0.04)  # 16 attempts later: gone


# -- tiers ---------------------------------------------------------------------------------------------------------
def test_mastery_moves_the_learner_up_and_lower_tiers_come_back_as_review():
    items = code_items(per_code=3, tiers=TIERS)
    tier_of = {i.id: i.tier for i in items}
    served = [tier_of[i] for i in serve(items, [], 300, right)]
    first_intermediate, first_advanced = served.index("intermediate"), served.index("advanced")
    assert set(served[:first_intermediate]) == {"beginner"}
    assert "advanced" not in served[:first_advanced]
    assert first_intermediate >= SchedulerConfig().mastery_window  # a tier is never passed before its window
    assert "beginner" in served[first_intermediate + 1:first_advanced]  # review (and spacing) of the tier below
    later = Counter(served[first_advanced:])
    assert later["advanced"] > later["beginner"] > 0
    progress = learner_progress(items, [Attempt(i, "", True) for i in serve(items, [], 300, right)])
    assert progress.all_mastered and all(progress.tiers[t].mastered for t in TIERS)


def test_a_tier_needs_accuracy_and_enough_distinct_items():
    items = code_items(per_code=2)
    few = [right(items[i % 3]) for i in range(12)]  # 12 right answers, but on 3 items only
    assert not learner_progress(items, few).tiers["beginner"].mastered
    varied = [right(items[i]) for i in range(12)]
    assert learner_progress(items, varied).tiers["beginner"].mastered
    sloppy = [right(items[i]) if i % 4 else Attempt(items[i].id, "XX", False) for i in range(12)]  # 9/12 = 0.75
    assert not learner_progress(items, sloppy).tiers["beginner"].mastered


# -- edge cases ----------------------------------------------------------------------------------------------------
def test_an_empty_history_starts_at_beginner():
    items = code_items(tiers=TIERS)
    assert {choose_next(items, [], seed=s).split("-")[2] for s in range(30)} == {"beg"}
    assert learner_progress(items, []).tier == "beginner"


def test_an_empty_tier_is_skipped():
    items = code_items(tiers=("intermediate", "advanced"))
    assert learner_progress(items, []).tier == "intermediate"
    assert {choose_next(items, [], seed=s).split("-")[2] for s in range(30)} == {"int"}


def test_unknown_item_ids_are_ignored():
    items = code_items()
    history = [Attempt("cd-gone-1", "SR", False), right(items[0]), Attempt("cd-gone-2", "CR", True)]
    progress = learner_progress(items, history)
    assert progress.attempts == 1 and progress.confusions == {} and progress.streak == 1
    assert choose_next(items, history, seed=0) in {i.id for i in items}


def test_never_the_same_item_twice_in_a_row_unless_it_is_the_only_one():
    items = code_items(per_code=1, codes=("SR", "CR"))
    served = serve(items, [], 200, lambda i: Attempt(i.id, "XX", False))
    assert all(a != b for a, b in pairwise(served))
    some_wrong = lambda i: right(i) if int(i.id[-1]) % 3 else Attempt(i.id, "", False)  # noqa: E731
    many = serve(code_items(tiers=TIERS), [], 300, some_wrong)
    assert all(a != b for a, b in pairwise(many))
    only = [ItemInfo("rf-only", "advanced", "refer", "refer-soon", "refer")]
    assert serve(only, [], 3, lambda i: Attempt(i.id, "mention", False)) == ["rf-only"] * 3


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="empty"):
        choose_next([], [], seed=0)
    with pytest.raises(ValueError, match="tier"):
        ItemInfo("cd-x-1", "expert", "code", "SR", "SR")
    with pytest.raises(ValueError, match="twice"):
        PracticeState(code_items(per_code=1) * 2)
    with pytest.raises(ValueError):
        SchedulerConfig(gaps=())


# -- progress ------------------------------------------------------------------------------------------------------
def test_learner_progress_on_a_hand_made_history():
    items = [ItemInfo("cd-sr-1", "beginner", "code", "SR", "SR"), ItemInfo("cd-cr-1", "beginner", "code", "CR", "CR"),
             ItemInfo("br-1", "beginner", "best-response", "b", "best-response"),
             ItemInfo("rf-1", "intermediate", "refer", "refer-soon", "refer")]
    history = [Attempt("cd-sr-1", "CR", False),  # 0: SR taken for CR
               Attempt("br-1", "b", True),  # 1
               Attempt("cd-cr-1", "CR", True),  # 2
               Attempt("cd-sr-1", "SR", True),  # 3
               Attempt("gone", "SR", True),  # the bank changed: ignored
               Attempt("cd-cr-1", "SR", False),  # 4: CR taken for SR
               Attempt("br-1", "b", True),  # 5
               Attempt("cd-sr-1", "SR", True)]  # 6
    progress = learner_progress(items, history)
    assert progress.attempts == 7
    assert progress.tier == "beginner" and not progress.all_mastered
    assert progress.skills == {"SR": SkillRecord(3, 2), "CR": SkillRecord(2, 1), "best-response": SkillRecord(2, 2)}
    assert progress.skills["SR"].accuracy == pytest.approx(2 / 3)
    assert progress.confusions == {("CR", "SR"): 1, ("SR", "CR"): 1}
    assert (progress.streak, progress.longest_streak) == (2, 3)
    beginner = progress.tiers["beginner"]
    assert (beginner.items, beginner.seen, beginner.mastered_items, beginner.mastered) == (3, 3, 2, False)
    assert progress.tiers["intermediate"].seen == 0 and progress.tiers["advanced"].items == 0
    # cd-cr-1 wrong at 4: due from 4 + 3 + 1 = 8; br-1 right twice (box 2), last at 5: due from 5 + 20 + 1.
    assert progress.due == ()
    later = learner_progress(items, [*history, Attempt("br-1", "b", True)])
    assert later.due == ("cd-cr-1",) and later.streak == 3
