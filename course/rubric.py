"""The coding rubric (codebook): behaviour codes, decision rules and the empathy scale, as a typed model.

The content lives in ``course/rubric.yaml``; this module only describes and checks its shape.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from course import CONTENT_DIR
from course.loading import load_model, require_unique

RUBRIC_PATH = CONTENT_DIR / "rubric.yaml"

# The groups Attune's lessons and simulated coders know. An instructor's own rubric may use any of them, only some,
# or put every code under "other" (no group is required); the groups only steer near-neighbour confusions.
CodeGroup = Literal["questions", "reflections", "support", "information", "roadblocks", "collaboration", "other"]
MIN_LEVELS, MAX_LEVELS = 3, 10  # an empathy scale 1..n: below 3 it is not ordinal, above 10 anchors blur


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class BehaviourCode(_Strict):
    id: str = Field(pattern=r"^[A-Z]{2,3}$", description="Short capital-letter code, e.g. 'CR'.")
    label: str = Field(min_length=3)
    group: CodeGroup
    definition: str = Field(min_length=20)
    example: str = Field(min_length=3)
    context: str | None = Field(default=None, description="The client line the example answers.")


class DecisionRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: str = Field(min_length=3)
    rule: str = Field(min_length=20)
    codes: list[str] = Field(min_length=1)


class EmpathyLevel(_Strict):
    level: int = Field(ge=1, le=MAX_LEVELS)
    label: str = Field(min_length=2)
    anchor: str = Field(min_length=20)
    example: str | None = None


class EmpathyScale(_Strict):
    title: str
    levels: list[EmpathyLevel]
    notes: list[str] = []

    @field_validator("levels")
    @classmethod
    def _levels_one_to_n(cls, levels: list[EmpathyLevel]) -> list[EmpathyLevel]:
        # Scoring, kappa and the forms read a level's distance as its step on the scale: 1..n, no gaps.
        found = [lvl.level for lvl in levels]
        if not MIN_LEVELS <= len(found) <= MAX_LEVELS:
            raise ValueError(f"a scale needs {MIN_LEVELS} to {MAX_LEVELS} levels numbered from 1; "
                             f"found {len(found)}: {found}")
        wanted = list(range(1, len(found) + 1))
        if found != wanted:
            raise ValueError(f"levels must be numbered 1 to n in this order, each once: for {len(found)} levels "
                             f"{', '.join(map(str, wanted))}; found {found}")
        return levels


class Rubric(_Strict):
    version: int = Field(ge=1)
    title: str
    codes: list[BehaviourCode] = Field(min_length=2)
    decision_rules: list[DecisionRule] = []
    empathy: EmpathyScale

    @model_validator(mode="after")
    def _ids_unique_and_known(self) -> Rubric:
        ids = [c.id for c in self.codes]
        require_unique(ids, "code ids")
        for rule in self.decision_rules:
            unknown = [c for c in rule.codes if c not in ids]
            if unknown:
                raise ValueError(f"decision rule {rule.id!r} names unknown code(s): {', '.join(unknown)}")
        return self

    @property
    def code_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.codes)

    @property
    def empathy_levels(self) -> tuple[int, ...]:
        return tuple(lvl.level for lvl in self.empathy.levels)

    def code(self, code_id: str) -> BehaviourCode:
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(code_id)

    def codes_in_group(self, group: str) -> tuple[str, ...]:
        """The ids of the codes in one group, in rubric order; () for a group the rubric does not use."""
        return tuple(c.id for c in self.codes if c.group == group)

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups this rubric uses, in the order their first code appears."""
        return tuple(dict.fromkeys(c.group for c in self.codes))


def load_rubric(path: Path | str | None = None) -> Rubric:
    """Load and validate a rubric file; by default the rubric in force: a course's own rubric.yaml (in a content
    folder, see course.library), else the shipped one."""
    if path is None:
        from course.library import setting

        path = setting("rubric.yaml")
    return _cached(Path(path).resolve())


@cache
def _cached(path: Path) -> Rubric:
    return load_model(path, Rubric)
