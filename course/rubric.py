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

CodeGroup = Literal["questions", "reflections", "support", "information", "roadblocks", "collaboration", "other"]


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
    level: int = Field(ge=1, le=5)
    label: str = Field(min_length=2)
    anchor: str = Field(min_length=20)
    example: str | None = None


class EmpathyScale(_Strict):
    title: str
    levels: list[EmpathyLevel]
    notes: list[str] = []

    @field_validator("levels")
    @classmethod
    def _levels_one_to_five(cls, levels: list[EmpathyLevel]) -> list[EmpathyLevel]:
        found = [lvl.level for lvl in levels]
        if found != [1, 2, 3, 4, 5]:
            raise ValueError(f"levels must be 1, 2, 3, 4, 5 in this order, each once; found {found}")
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


def load_rubric(path: Path | str = RUBRIC_PATH) -> Rubric:
    """Load and validate a rubric file (the course's own by default)."""
    if Path(path) == RUBRIC_PATH:
        return _course_rubric()
    return load_model(Path(path), Rubric)


@cache
def _course_rubric() -> Rubric:
    return load_model(RUBRIC_PATH, Rubric)
