"""Which practice item next: a pure, deterministic scheduler over the learner's own history.

The history is the learner's attempts, oldest first (item id, the main answer given, right or wrong). From it
alone (no clock, no stored state) the scheduler picks the next item, so the same bank, history and seed always
give the same item: a session can be replayed, and a test can pin a choice. The rules, in the order they apply:

1. Spaced repetition: Leitner boxes counted in ITEMS, not clock time (deterministic, and it works within one
   sitting). A wrong answer puts the item in box 0; each right answer moves it up one box (an item seen for the
   first time and answered right goes to box 1). An item in box b is due again once ``gaps[b]`` other items have
   been answered after it (default: 3 after a wrong answer, then 8, 20, 50); a right answer in the last box
   retires it. A due item is served before any new one, the most overdue first (ties: the lower box, then the
   id) -- except that the due items of a *strong* skill wait (rule 5).
2. Review of lower tiers: once the learner is past the first tier, a share ``review_share`` of the choices that
   rule 1 leaves goes to an item of a lower tier, so the earlier distinctions stay fresh.
3. New items come from the current tier: the first of beginner, intermediate, advanced not yet mastered that has
   items (an empty tier is skipped). A tier is mastered once the learner's last ``mastery_window`` attempts at it
   reach ``mastery_threshold`` accuracy and cover at least ``mastery_min_items`` distinct items (all of them, if
   the tier has fewer). Mastery is kept (a bad review does not send the learner back a tier). When every tier is
   mastered, new items come from any tier.
4. Draws (of new and review items) pick a skill first, then one of its items at random: the learner practises
   distinctions, and a kind with many items in the bank must not crowd out a code with few. A skill's weight is
   1 + ``confusion_weight`` x the number of the learner's last ``confusion_window`` attempts at code items in
   which its code was confused with another, in either direction: answering CR for SR makes both SR and CR items
   likelier, in proportion to how often it happened lately, and the pull fades once the confusion stops.
5. Strong skills step back. A skill is strong while the learner's last ``skill_window`` attempts at it were at
   least ``skill_threshold`` right: its weight is multiplied by ``strong_weight`` and (``defer_strong_skills``)
   its due items wait, so the items go where the learner still errs; they return once the skill slips, or when
   nothing else is left. (Measured in benchmarks/practice_bench.py with simulated learners: the median items to
   mastery were 0.93-0.97x random order's without this rule, 0.68-0.82x with it.)
6. When nothing is due and the current tier has no new item left, the item due soonest (of a skill not strong)
   is pulled forward; failing that, any item of the unlocked tiers is drawn as in 4.

Always: the item just answered is not served again at once, unless it is the only item in the bank. Attempts at
ids no longer in the bank are ignored (the bank changed); they count only towards the seed. Randomness comes only
from ``random.Random(f"{seed}:{len(history)}")``, never from the global generator.

An item is *mastered* (in :class:`Progress`) when its last ``item_mastery_streak`` attempts (default 2) were all
right. :class:`PracticeState` is the replayed history itself; a long session (or the benchmark) can add attempts
to it one by one instead of replaying the whole history for every choice, with the same result.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "KINDS",
    "TIERS",
    "Attempt",
    "ItemInfo",
    "PracticeState",
    "Progress",
    "SchedulerConfig",
    "SkillRecord",
    "TierProgress",
    "choose_next",
    "learner_progress",
]

TIERS = ("beginner", "intermediate", "advanced")
KINDS = ("code", "best-response", "feeling-concern", "refer")


@dataclass(frozen=True)
class ItemInfo:
    """What the scheduler needs of a practice item (course.practice has the full item)."""

    id: str
    tier: str  # one of TIERS
    kind: str  # one of KINDS
    answer: str  # the reference's main answer: a code ("CR"), a letter ("b"), "feeling/concern", a decision id
    skill: str  # the distinction it trains: for code items the reference code ("CR"); else the kind

    def __post_init__(self) -> None:
        if self.tier not in TIERS:
            raise ValueError(f"{self.id}: tier {self.tier!r} is not one of {', '.join(TIERS)}")
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Attempt:
    """One answer of the learner's: the item, the main answer given (in the form of ItemInfo.answer), right or not."""

    item: str
    given: str
    correct: bool


@dataclass(frozen=True)
class SchedulerConfig:
    """The scheduler's knobs; the defaults suit a bank of a few hundred items practised a few dozen at a time."""

    # Items that must follow an answer before its item is due again, by Leitner box: box 0 (after a wrong answer)
    # comes back soon; each right answer moves one box up; a right answer in the last box retires the item.
    gaps: tuple[int, ...] = (3, 8, 20, 50)
    mastery_window: int = 12  # a tier's mastery is judged on the learner's last this-many attempts at it ...
    mastery_threshold: float = 0.8  # ... which must be at least this accurate ...
    mastery_min_items: int = 6  # ... and cover this many distinct items (no passing a tier on two items)
    item_mastery_streak: int = 2  # an item is mastered when its last this-many attempts were right
    confusion_weight: float = 1.0  # extra draw weight per recent confusion involving an item's code
    confusion_window: int = 50  # "recent": among the learner's last this-many attempts
    review_share: float = 0.15  # share of the non-due choices that go to lower tiers once past the first
    # A skill is strong while the learner's last skill_window attempts at it were at least skill_threshold right:
    # its due items then wait (defer_strong_skills) and it is drawn with strong_weight times the weight.
    skill_window: int = 20
    skill_threshold: float = 0.9
    strong_weight: float = 0.25
    defer_strong_skills: bool = True

    def __post_init__(self) -> None:
        if not self.gaps or any(g < 0 for g in self.gaps):
            raise ValueError("gaps must be one or more numbers of items, none negative")
        if self.mastery_window < 1 or self.mastery_min_items < 1 or self.item_mastery_streak < 1:
            raise ValueError("mastery_window, mastery_min_items and item_mastery_streak must be at least 1")
        if not 0 <= self.mastery_threshold <= 1 or not 0 <= self.review_share <= 1:
            raise ValueError("mastery_threshold and review_share are shares, between 0 and 1")
        if self.confusion_weight < 0 or self.confusion_window < 0:
            raise ValueError("confusion_weight and confusion_window cannot be negative")
        if self.skill_window < 1 or not 0 <= self.skill_threshold <= 1 or self.strong_weight <= 0:
            raise ValueError("skill_window must be at least 1, skill_threshold a share, strong_weight above 0")


@dataclass(frozen=True)
class TierProgress:
    tier: str
    items: int  # in the bank
    seen: int  # answered at least once
    mastered_items: int  # whose last item_mastery_streak attempts were right
    mastered: bool  # the tier's rule (module docstring, rule 3) was met at some point


@dataclass(frozen=True)
class SkillRecord:
    attempts: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.attempts if self.attempts else None


@dataclass(frozen=True)
class Progress:
    """Where the learner stands, from the history alone (attempts at unknown ids left out)."""

    tier: str  # the current tier: new items come from it (the last tier with items once all are mastered)
    all_mastered: bool  # every tier that has items is mastered
    tiers: dict[str, TierProgress]  # every tier in TIERS, empty ones too
    skills: dict[str, SkillRecord]  # by ItemInfo.skill, for the skills attempted
    confusions: dict[tuple[str, str], int]  # (expected code, given code): times, over code items
    streak: int  # right answers in a row, up to the last attempt
    longest_streak: int
    due: tuple[str, ...]  # items due for review now, most overdue first
    attempts: int  # attempts counted (at items in the bank)


GroupKey = tuple[str, str]  # (tier, skill)


class PracticeState:
    """The scheduler's view of one learner: the bank plus the history replayed. :meth:`record` adds an attempt;
    :meth:`choose` and :meth:`progress` read the state without changing what it means."""

    def __init__(self, items: Iterable[ItemInfo], config: SchedulerConfig = SchedulerConfig()) -> None:
        self.config = config
        self.items: dict[str, ItemInfo] = {}
        for item in items:
            if item.id in self.items:
                raise ValueError(f"item id {item.id!r} appears twice in the bank")
            self.items[item.id] = item
        self.tier_size = {t: sum(i.tier == t for i in self.items.values()) for t in TIERS}
        self.tiers_present = tuple(t for t in TIERS if self.tier_size[t])
        # Draw pools, grouped so that a draw weighs a few groups rather than every item (items of a group share a
        # weight). Sorted ids: the draw must not depend on the bank's order.
        self._groups: dict[GroupKey, tuple[str, ...]] = {}
        for item in sorted(self.items.values(), key=lambda i: i.id):
            key = (item.tier, item.skill)
            self._groups[key] = (*self._groups.get(key, ()), item.id)
        self._unseen: dict[GroupKey, dict[str, None]] = {k: dict.fromkeys(v) for k, v in self._groups.items()}
        self._code_skills = {i.skill for i in self.items.values() if i.kind == "code"}  # skill = reference code
        self.records = 0  # attempts in the history, unknown ids included (they count towards the seed only)
        self.position = 0  # attempts counted: the position the next item will take
        self.last_item: str | None = None
        self.box: dict[str, int] = {}
        self.due_at: dict[str, int] = {}  # the position from which a seen, unretired item is due
        # Per skill, (due_at, box, id) of its scheduled items; stale entries are skipped lazily.
        self._queues: dict[str, list[tuple[int, int, str]]] = {}
        self._recent: dict[str, deque[bool]] = {}  # per item, its last item_mastery_streak results
        self._tier_window: dict[str, deque[tuple[str, bool]]] = {t: deque(maxlen=config.mastery_window)
                                                                 for t in TIERS}
        self.mastered_tiers: set[str] = set()
        self.skills: dict[str, list[int]] = {}  # skill: [attempts, correct]
        self._skill_recent: dict[str, deque[bool]] = {}  # skill: its last skill_window results
        self.confusions: dict[tuple[str, str], int] = {}
        self._recent_confusions: deque[tuple[int, str, str]] = deque()
        self._pressure: dict[str, int] = {}  # code: confusions involving it among the recent ones
        self.streak = self.longest_streak = 0

    @classmethod
    def replay(cls, items: Iterable[ItemInfo], history: Iterable[Attempt],
               config: SchedulerConfig = SchedulerConfig()) -> PracticeState:
        state = cls(items, config)
        for attempt in history:
            state.record(attempt)
        return state

    # -- reading the history ------------------------------------------------------------------------------------
    def record(self, attempt: Attempt) -> None:
        """Add one attempt (the next in the history)."""
        self.records += 1
        self.last_item = attempt.item
        item = self.items.get(attempt.item)
        if item is None:
            return  # the bank changed: the item is gone
        config, at = self.config, self.position
        self.position += 1
        box = self.box.get(item.id, 0) + 1 if attempt.correct else 0
        self.box[item.id] = box
        if box < len(config.gaps):
            self.due_at[item.id] = due = at + config.gaps[box] + 1
            heapq.heappush(self._queues.setdefault(item.skill, []), (due, box, item.id))
        else:
            self.due_at.pop(item.id, None)  # retired
        self._unseen[item.tier, item.skill].pop(item.id, None)
        self._recent.setdefault(item.id, deque(maxlen=config.item_mastery_streak)).append(attempt.correct)
        record = self.skills.setdefault(item.skill, [0, 0])
        record[0] += 1
        record[1] += attempt.correct
        self._skill_recent.setdefault(item.skill, deque(maxlen=config.skill_window)).append(attempt.correct)
        self.streak = self.streak + 1 if attempt.correct else 0
        self.longest_streak = max(self.longest_streak, self.streak)
        self._update_tier(item, attempt.correct)
        if item.kind == "code" and not attempt.correct and attempt.given and attempt.given != item.answer:
            pair = (item.answer, attempt.given)
            self.confusions[pair] = self.confusions.get(pair, 0) + 1
            self._recent_confusions.append((at, *pair))
            for code in pair:
                self._pressure[code] = self._pressure.get(code, 0) + 1
        while self._recent_confusions and self._recent_confusions[0][0] < self.position - config.confusion_window:
            _, *pair = self._recent_confusions.popleft()
            for code in pair:
                self._pressure[code] -= 1

    def _update_tier(self, item: ItemInfo, correct: bool) -> None:
        window = self._tier_window[item.tier]
        window.append((item.id, correct))
        config = self.config
        if (item.tier not in self.mastered_tiers and len(window) == config.mastery_window
                and sum(c for _, c in window) >= config.mastery_threshold * config.mastery_window
                and len({i for i, _ in window}) >= min(config.mastery_min_items, self.tier_size[item.tier])):
            self.mastered_tiers.add(item.tier)

    @property
    def current_tier(self) -> str:
        """The first tier with items not yet mastered; the last tier with items once all are (beginner if none)."""
        open_tiers = [t for t in self.tiers_present if t not in self.mastered_tiers]
        if open_tiers:
            return open_tiers[0]
        return self.tiers_present[-1] if self.tiers_present else TIERS[0]

    @property
    def all_mastered(self) -> bool:
        return bool(self.tiers_present) and all(t in self.mastered_tiers for t in self.tiers_present)

    # -- choosing -----------------------------------------------------------------------------------------------
    def choose(self, seed: int) -> str:
        """The next item's id (the rules are in the module docstring)."""
        if not self.items:
            raise ValueError("the practice bank is empty: there is nothing to choose from")
        if len(self.items) == 1:
            return next(iter(self.items))
        rng = random.Random(f"{seed}:{self.records}")
        defer = self.config.defer_strong_skills
        soonest = self._soonest(skip_strong=defer)
        if soonest and soonest[0] <= self.position:
            return soonest[1]  # due: the most overdue first
        tier = self.current_tier
        unlocked = self.tiers_present[: self.tiers_present.index(tier) + 1] if self.tiers_present else ()
        if not self.all_mastered and len(unlocked) > 1 and rng.random() < self.config.review_share:
            review = self._draw(rng, unlocked[:-1], unseen_only=False)
            if review:
                return review
        new = self._draw(rng, self.tiers_present if self.all_mastered else (tier,), unseen_only=True)
        if new:
            return new
        if soonest:
            return soonest[1]  # nothing new in the tier, nothing due: pull the soonest forward
        # Everything retired: any item of the unlocked tiers (of any tier, if those hold only the item just
        # answered; with two items or more in the bank, some item other than that one exists).
        return self._draw(rng, unlocked, unseen_only=False) or self._draw(rng, TIERS, unseen_only=False) or ""

    def _strong(self, skill: str) -> bool:
        """The learner's last skill_window attempts at this skill were at least skill_threshold right."""
        recent = self._skill_recent.get(skill, ())
        return len(recent) == self.config.skill_window and sum(recent) >= self.config.skill_threshold * len(recent)

    def _soonest(self, skip_strong: bool) -> tuple[int, str] | None:
        """(due position, id) of the scheduled item due soonest (ties: lower box, then id), other than the one just
        answered; with skip_strong, only of skills the learner is not currently strong at."""
        best: tuple[int, int, str] | None = None
        for skill, queue in self._queues.items():
            if skip_strong and self._strong(skill):
                continue
            held = []
            while queue:
                due, _box, item = queue[0]
                if self.due_at.get(item) != due:
                    heapq.heappop(queue)  # stale: answered again since, or retired
                elif item == self.last_item:
                    held.append(heapq.heappop(queue))
                else:
                    if best is None or queue[0] < best:
                        best = queue[0]
                    break
            for entry in held:
                heapq.heappush(queue, entry)
        return (best[0], best[2]) if best else None

    def _weight(self, skill: str) -> float:
        """A skill's draw weight: raised by recent confusions of its code (for code skills), lowered while strong."""
        config = self.config
        weight = 1.0 + config.confusion_weight * self._pressure.get(skill, 0) if skill in self._code_skills else 1.0
        if self._strong(skill):
            weight *= config.strong_weight
        return weight

    def _draw(self, rng: random.Random, tiers: Sequence[str], unseen_only: bool) -> str | None:
        """One item of these tiers (only unseen ones, if so asked), never the one just answered; None when there is
        no such item. A skill is drawn first, by weight, then an item of it: the learner practises distinctions,
        and a kind with many items in the bank should not crowd out a code with few."""
        pools: dict[str, list[tuple[str, ...] | dict[str, None]]] = {}
        for (tier, skill), ids in (self._unseen if unseen_only else self._groups).items():
            if tier in tiers and len(ids) - (self.last_item in ids) > 0:
                pools.setdefault(skill, []).append(ids)
        if not pools:
            return None
        skills = sorted(pools)
        skill = rng.choices(skills, [self._weight(skill) for skill in skills])[0]
        candidates = [i for ids in pools[skill] for i in ids if i != self.last_item]
        return candidates[rng.randrange(len(candidates))]

    # -- reporting ----------------------------------------------------------------------------------------------
    def due_now(self) -> tuple[str, ...]:
        """The items due for review now, most overdue first."""
        due = [(at, self.box[i], i) for i, at in self.due_at.items() if at <= self.position]
        return tuple(i for *_, i in sorted(due))

    def progress(self) -> Progress:
        streak = self.config.item_mastery_streak
        mastered_item = {i for i, r in self._recent.items() if len(r) == streak and all(r)}
        tiers = {}
        for tier in TIERS:
            ids = [i for i, item in self.items.items() if item.tier == tier]
            tiers[tier] = TierProgress(tier, len(ids), sum(i in self.box for i in ids),
                                       sum(i in mastered_item for i in ids), tier in self.mastered_tiers)
        return Progress(
            tier=self.current_tier, all_mastered=self.all_mastered, tiers=tiers,
            skills={s: SkillRecord(*r) for s, r in sorted(self.skills.items())},
            confusions=dict(sorted(self.confusions.items())), streak=self.streak,
            longest_streak=self.longest_streak, due=self.due_now(), attempts=self.position)


def choose_next(items: Sequence[ItemInfo], history: Sequence[Attempt], seed: int,
                config: SchedulerConfig = SchedulerConfig()) -> str:
    """The id of the item to serve next, given the bank, the learner's history (oldest first) and a seed.

    Deterministic: the same items, history and seed give the same id. ValueError for an empty bank."""
    return PracticeState.replay(items, history, config).choose(seed)


def learner_progress(items: Sequence[ItemInfo], history: Sequence[Attempt],
                     config: SchedulerConfig = SchedulerConfig()) -> Progress:
    """Where the learner stands: current tier, per-tier and per-skill figures, confusions, streaks, items due."""
    return PracticeState.replay(items, history, config).progress()
