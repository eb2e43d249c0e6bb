"""Benchmark: the adaptive practice scheduler against random order, with simulated learners (issue 17).

    python benchmarks/practice_bench.py [--learners 40] [--cap 6000] [--plot benchmarks/out/practice-scheduler.png]

A synthetic bank shaped like ours (510 items: 300 code items, 20 for each of the 15 shipped codes; 90
best-response, 70 feeling-concern, 50 refer; every skill spread over the tiers 40/35/25 %), and two kinds of
simulated learner, each run under three orders from the same starting skills and the same random answers' seed:
the adaptive scheduler (autograder.core.practice_scheduler, default settings); "leitner", the same scheduler with
its rule 5 (strong skills step back) switched off; and random order (uniform over the bank):

(a) confuser: competent on the other skills (starting p in [0.85, 0.95]) but answers CR for SR and SR for CR with
    probability 0.5, a swap that fades only with practice on SR and CR items (x0.96 per attempt, x0.90 after
    the feedback on a swap);
(b) improver: starting p in [0.3, 0.8] per skill; every attempt at a skill moves p a share 0.02 of the way to
    1, an error (whose feedback the learner reads) a share 0.06. A wrong code is the code's near neighbour
    (autograder.core.simulate.NEIGHBOURS) 70 % of the time.

Items to mastery: the number of items served until BOTH the learner's true accuracy on every skill is at least
0.9 (p, times 1 - swap on the confused pair's items) AND the scheduler's own rule counts every tier mastered (the
same rule, applied to the random order's history too). A learner still short of it after --cap items counts as
the cap (and is reported). The script prints the median and interquartile range of items to mastery for both
order, the ratios to random order (of the medians, and the median of the per-learner ratios), and the share of
SR/CR items served (their share of the bank: 7.8 %), and saves a box plot (--plot).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.core.metrics import SHIPPED_CODES
from autograder.core.practice_scheduler import TIERS, Attempt, ItemInfo, PracticeState, SchedulerConfig
from autograder.core.simulate import NEIGHBOURS

PAIR = ("SR", "CR")
ORDERS = {"adaptive": SchedulerConfig(), "leitner": SchedulerConfig(defer_strong_skills=False, strong_weight=1.0),
          "random": SchedulerConfig()}  # random order: the config only judges tier mastery
TARGET = 0.9
LETTERS = ("a", "b", "c", "d")
DECISIONS = ("no-referral", "mention", "refer-routine", "refer-soon", "refer-urgent", "emergency")
FEELINGS = ("anxious/job", "sad/loss", "angry/fairness", "ashamed/worth", "lonely/belonging")


def tier_of(index: int, count: int) -> str:
    """Spread a skill's items over the tiers 40/35/25 %."""
    share = index / count
    return TIERS[0] if share < 0.40 else TIERS[1] if share < 0.75 else TIERS[2]


def synthetic_bank(seed: int = 7) -> list[ItemInfo]:
    rng = random.Random(seed)
    items = []
    for code in SHIPPED_CODES:
        items += [ItemInfo(f"cd-{code.lower()}-{i:03d}", tier_of(i, 20), "code", code, code) for i in range(20)]
    for kind, prefix, count, answers in (("best-response", "br", 90, LETTERS), ("feeling-concern", "fc", 70, FEELINGS),
                                         ("refer", "rf", 50, DECISIONS)):
        items += [ItemInfo(f"{prefix}-{i:03d}", tier_of(i, count), kind, rng.choice(answers), kind)
                  for i in range(count)]
    return items


@dataclass
class Learner:
    """A simulated learner: true per-skill accuracy p, and a swap of the confused pair's codes."""

    p: dict[str, float]
    swap: float = 0.0
    rate: float = 0.02  # share of the way to p = 1 that any attempt at a skill moves p
    rate_error: float = 0.06  # ... and an error, once the learner reads the feedback
    swap_decay: float = 0.04  # practice on the pair's items shrinks the swap by this share
    swap_decay_error: float = 0.10  # ... and the feedback on a swap by this one
    below: set[str] = field(default_factory=set)  # skills still under the target

    def __post_init__(self) -> None:
        self.below = {s for s in self.p if self.true_accuracy(s) < TARGET}

    def true_accuracy(self, skill: str) -> float:
        return self.p[skill] * (1 - self.swap) if skill in PAIR else self.p[skill]

    def answer(self, item: ItemInfo, rng: random.Random) -> Attempt:
        skill = item.skill
        if skill in PAIR and rng.random() < self.swap:
            given = PAIR[1] if skill == PAIR[0] else PAIR[0]
        elif rng.random() < self.p[skill]:
            given = item.answer
        else:
            given = wrong_answer(item, rng)
        correct = given == item.answer
        # Learning from this attempt (and its feedback).
        self.p[skill] += (self.rate if correct else self.rate_error) * (1 - self.p[skill])
        if skill in PAIR:
            self.swap *= 1 - (self.swap_decay if correct else self.swap_decay_error)
            touched = PAIR
        else:
            touched = (skill,)
        for s in touched:
            if s in self.below and self.true_accuracy(s) >= TARGET:
                self.below.discard(s)
        return Attempt(item.id, given, correct)


def wrong_answer(item: ItemInfo, rng: random.Random) -> str:
    if item.kind == "code":
        if item.answer in NEIGHBOURS and rng.random() < 0.7:
            return NEIGHBOURS[item.answer]
        return rng.choice([c for c in SHIPPED_CODES if c != item.answer])
    options = {"best-response": LETTERS, "feeling-concern": FEELINGS, "refer": DECISIONS}[item.kind]
    return rng.choice([o for o in options if o != item.answer])


def skills_of(bank: list[ItemInfo]) -> list[str]:
    return sorted({i.skill for i in bank})


def confuser(skills: list[str], rng: random.Random) -> Learner:
    return Learner({s: rng.uniform(0.85, 0.95) for s in skills}, swap=0.5)


def improver(skills: list[str], rng: random.Random) -> Learner:
    return Learner({s: rng.uniform(0.3, 0.8) for s in skills})


@dataclass(frozen=True)
class Run:
    items: int  # items served until mastery (the cap if not reached)
    reached: bool
    pair_share: float  # share of the served items whose skill is SR or CR


def run(bank: list[ItemInfo], learner: Learner, order: str, seed: int, cap: int) -> Run:
    """Serve items until mastery (or the cap) in one of the ORDERS."""
    by_id = {i.id: i for i in bank}
    ids = [i.id for i in bank]
    state = PracticeState(bank, ORDERS[order])  # for random order it only judges tier mastery
    answers = random.Random(f"answers:{seed}")
    draws = random.Random(f"random-order:{seed}")
    pair_served = 0
    for n in range(1, cap + 1):
        item_id = draws.choice(ids) if order == "random" else state.choose(seed)
        item = by_id[item_id]
        pair_served += item.skill in PAIR
        state.record(learner.answer(item, answers))
        if not learner.below and state.all_mastered:
            return Run(n, True, pair_served / n)
    return Run(cap, False, pair_served / cap)


def quartiles(values: list[int]) -> tuple[float, float, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


LEARNERS: dict[str, Callable[[list[str], random.Random], Learner]] = {"confuser": confuser, "improver": improver}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=40, help="simulated learners of each kind")
    parser.add_argument("--cap", type=int, default=6000, help="give up on a learner after this many items")
    parser.add_argument("--plot", type=Path, default=Path("benchmarks/out/practice-scheduler.png"))
    args = parser.parse_args()

    t0 = time.perf_counter()
    bank = synthetic_bank()
    skills = skills_of(bank)
    pair_in_bank = sum(i.skill in PAIR for i in bank) / len(bank)
    results: dict[str, dict[str, list[Run]]] = {}
    for kind, make in LEARNERS.items():
        results[kind] = {order: [] for order in ORDERS}
        for k in range(args.learners):
            for order in ORDERS:  # the same learner, from the same start, under every order
                learner = make(skills, random.Random(f"{kind}:{k}"))
                results[kind][order].append(run(bank, learner, order, seed=k, cap=args.cap))
    elapsed = time.perf_counter() - t0

    print(f"bank: {len(bank)} items, {len(skills)} skills; SR/CR items are {pair_in_bank:.1%} of it; "
          f"{args.learners} learners of each kind, each under every order; cap {args.cap} items")
    print(f"{'learner':10}{'order':10}{'median':>8}{'IQR':>14}{'reached':>9}{'SR/CR served':>14}")
    ok = True
    for kind, by_order in results.items():
        medians = {}
        for order, runs in by_order.items():
            q1, med, q3 = quartiles([r.items for r in runs])
            medians[order] = med
            reached = sum(r.reached for r in runs)
            share = statistics.mean(r.pair_share for r in runs)
            print(f"{kind:10}{order:10}{med:>8.0f}{f'{q1:.0f}-{q3:.0f}':>14}{f'{reached}/{len(runs)}':>9}"
                  f"{share:>14.1%}")
        for order in ("adaptive", "leitner"):
            pairs = list(zip(by_order[order], by_order["random"], strict=True))
            fewer = sum(a.items < r.items for a, r in pairs)
            print(f"{kind:10}{order} / random: median items {medians[order] / medians['random']:.2f}; per learner "
                  f"(median of ratios) {statistics.median(a.items / r.items for a, r in pairs):.2f}; fewer items for "
                  f"{fewer}/{len(pairs)} learners")
        ok &= medians["adaptive"] < medians["random"]
    print(f"simulation time: {elapsed:.1f} s")
    plot(results, pair_in_bank, args.plot)
    print(f"plot: {args.plot}")
    print("adaptive reaches mastery in fewer items than random order" if ok else "ADAPTIVE IS NOT FASTER")
    return 0 if ok else 1


def plot(results: dict[str, dict[str, list[Run]]], pair_in_bank: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, len(results) + 1, figsize=(5 * (len(results) + 1), 4.5))
    for ax, (kind, by_order) in zip(axes, results.items(), strict=False):
        ax.boxplot([[r.items for r in runs] for runs in by_order.values()], tick_labels=list(by_order))
        ax.set_title(f"{kind}: items to mastery")
        ax.set_ylabel("items served")
    ax = axes[-1]
    labels, shares = [], []
    for kind, by_order in results.items():
        for order, runs in by_order.items():
            labels.append(f"{kind}\n{order}")
            shares.append(100 * statistics.mean(r.pair_share for r in runs))
    ax.bar(range(len(shares)), shares, color=["tab:blue", "tab:cyan", "tab:grey"] * len(results))
    ax.axhline(100 * pair_in_bank, color="black", linestyle="--", linewidth=1, label="share of the bank")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylabel("% of served items that are SR/CR")
    ax.set_title("the confused distinction, served")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
