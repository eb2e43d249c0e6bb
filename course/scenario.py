"""Branching client dialogues for lessons, as a typed model over YAML, plus the pure walk through one."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from course import CONTENT_DIR
from course.loading import check_id_matches_file, load_model
from course.transcript import Tier

SCENARIOS_DIR = CONTENT_DIR / "scenarios"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Option(_Strict):
    text: str = Field(min_length=3)
    kind: Literal["strong", "weaker", "roadblock"]
    code: str = Field(pattern=r"^[A-Z]{2,3}$")
    feedback: str = Field(min_length=20)
    openness: int = Field(ge=-2, le=2)
    next: str
    section: str = Field(min_length=3, description="Lesson section to revisit after a miss.")


class Node(_Strict):
    client: str = Field(min_length=1)
    options: list[Option] = []
    end: bool = False
    summary: str | None = None
    resources: bool = Field(False, description="Show the course's crisis and support resources under this node.")

    @model_validator(mode="after")
    def _point_or_end(self) -> Node:
        if self.end and self.options:
            raise ValueError("an ending node has no options")
        if not self.end and not 3 <= len(self.options) <= 4:
            raise ValueError(f"a decision point needs 3 or 4 options, found {len(self.options)}")
        if self.end and not self.summary:
            raise ValueError("an ending node needs a one-sentence summary")
        return self


class Openness(_Strict):
    start: int
    min: int = 0
    max: int = 5

    @model_validator(mode="after")
    def _in_range(self) -> Openness:
        if not self.min <= self.start <= self.max:
            raise ValueError("start must lie between min and max")
        return self


class Scenario(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str
    tier: Tier
    client: str
    therapist: str = "You"
    context: str = Field(min_length=20)
    openness: Openness
    start: str
    nodes: dict[str, Node]

    @model_validator(mode="after")
    def _graph_is_sound(self) -> Scenario:
        if self.start not in self.nodes:
            raise ValueError(f"start: no node named {self.start!r}")
        for name, node in self.nodes.items():
            for i, option in enumerate(node.options):
                if option.next not in self.nodes:
                    raise ValueError(f"nodes.{name}.options[{i}].next: no node named {option.next!r}")
        reachable, todo = set(), [self.start]
        while todo:
            name = todo.pop()
            if name not in reachable:
                reachable.add(name)
                todo += [o.next for o in self.nodes[name].options]
        unreachable = sorted(set(self.nodes) - reachable)
        if unreachable:
            raise ValueError(f"nodes never reached from the start: {', '.join(unreachable)}")
        shortest = self._fewest_choices()
        if shortest < 3:
            raise ValueError(f"some path reaches an ending after {shortest} choice(s); every path needs 3 or more")
        return self

    def _fewest_choices(self) -> int:
        """The fewest choices on any path from the start to an ending."""

        def walk(name: str, depth: int, seen: frozenset[str]) -> int:
            node = self.nodes[name]
            if node.end:
                return depth
            if name in seen:  # a loop back is allowed; it cannot shorten a path
                return 10**6
            return min(walk(o.next, depth + 1, seen | {name}) for o in node.options)

        return walk(self.start, 0, frozenset())


def option_order(learner: str, scenario_id: str, node: str, n: int) -> list[int]:
    """The order in which ``learner`` sees the ``n`` options of ``node``: a permutation of authoring indexes.

    Scenario files list options strong, weaker, roadblock; shown that way, the pattern gives the answer away
    within two turns. Each option gets a key from SHA-256 over (learner, scenario, node, index) and the options
    are shown by key: the same for one learner on every run (Python's ``hash()`` is salted per process), and
    independent from decision to decision and from learner to learner. Only the display order depends on it:
    choices are still recorded by authoring index, so saved paths stay valid.
    """

    def key(index: int) -> bytes:
        # NUL-separated, so ("a", "bc") and ("ab", "c") cannot give the same bytes.
        return hashlib.sha256("\0".join((learner, scenario_id, node, str(index))).encode()).digest()

    return sorted(range(n), key=key)


def load_scenario(source: str | Path) -> Scenario:
    """Load a scenario by id (from course/scenarios/) or by path, validated."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml"):
        return _load(path)
    from course.library import find

    return _cached(find("scenarios", str(source)))


@cache
def _cached(path: Path) -> Scenario:
    return _load(path)


def _load(path: Path) -> Scenario:
    return check_id_matches_file(load_model(path, Scenario), path)


class Walk:
    """A path through a scenario: pure state (node, openness, choices), no widgets."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.reset()

    def reset(self) -> None:
        self.node_name = self.scenario.start
        self.openness = self.scenario.openness.start
        self.steps: list[tuple[str, int]] = []

    @property
    def node(self) -> Node:
        return self.scenario.nodes[self.node_name]

    @property
    def finished(self) -> bool:
        return self.node.end

    def choose(self, index: int) -> Option:
        if self.finished or not 0 <= index < len(self.node.options):
            raise ValueError(f"no option {index} at {self.node_name!r}")
        option = self.node.options[index]
        self.steps.append((self.node_name, index))
        lo, hi = self.scenario.openness.min, self.scenario.openness.max
        self.openness = max(lo, min(hi, self.openness + option.openness))
        self.node_name = option.next
        return option

    def path(self) -> list[str]:
        """The choices as 'node:index' strings, the form kept in the notebook."""
        return [f"{name}:{index}" for name, index in self.steps]

    def replay(self, path: list[str]) -> list[str]:
        """Follow a recorded path from the start; return problems for steps that do not fit the scenario."""
        self.reset()
        for step in path:
            name, _, index = str(step).partition(":")
            if name != self.node_name or not index.isdigit():
                return [f"Step {step!r} does not continue the path at {self.node_name!r}; replay stopped there."]
            try:
                self.choose(int(index))
            except ValueError as err:
                return [str(err)]
        return []
