"""Exercise items other than transcripts (statements to rate, to read for concerns, vignettes to triage,
sessions to summarise, statements to answer in your own words) and the vocabularies they draw on.

Trainee-visible content only: the expected answers live in solutions/keys/, never here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from course import CONTENT_DIR
from course.loading import (
    ContentError,
    check_id_matches_file,
    load_model,
    read_yaml,
    require_unique,
    validate,
)
from course.transcript import Tier

ITEMS_DIR = CONTENT_DIR / "items"
VOCABULARY_DIR = CONTENT_DIR / "vocabulary"
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
ItemId = Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}$")]
TIER_ORDER = {"beginner": 0, "intermediate": 1, "advanced": 2}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Term(_Strict):
    id: Slug
    label: str = Field(min_length=2)
    definition: str = Field(min_length=10)


class FeelingsAndConcerns(_Strict):
    feelings: list[Term] = Field(min_length=5)
    concerns: list[Term] = Field(min_length=5)

    @model_validator(mode="after")
    def _unique(self) -> FeelingsAndConcerns:
        require_unique([t.id for t in self.feelings], "feeling ids")
        require_unique([t.id for t in self.concerns], "concern ids")
        return self


class ReferralTerms(_Strict):
    decisions: list[Term] = Field(min_length=2, description="Ordered from least to most urgent.")
    cues: list[Term] = Field(min_length=3)

    @model_validator(mode="after")
    def _unique(self) -> ReferralTerms:
        require_unique([t.id for t in self.decisions], "decision ids")
        require_unique([t.id for t in self.cues], "cue ids")
        return self


class _Item(_Strict):
    id: ItemId
    tier: Tier
    who: str = Field(min_length=5, description="One line: who is speaking and where.")


class StatementItem(_Item):
    statement: str = Field(min_length=10)


class RatingItem(StatementItem):
    responses: dict[Literal["a", "b", "c", "d"], str]

    @model_validator(mode="after")
    def _three_or_four_in_order(self) -> RatingItem:
        letters = list(self.responses)
        if letters not in (["a", "b", "c"], ["a", "b", "c", "d"]):
            raise ValueError(f"responses must be a, b, c (and optionally d) in that order; found {letters}")
        return self


class VignetteItem(_Item):
    vignette: str = Field(min_length=20)


class MetricItem(_Strict):
    id: Slug
    tier: Tier
    prompt: str = Field(min_length=10)


class Metric(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label: str = Field(min_length=3)
    definition: str = Field(min_length=5)
    tolerance: float = Field(gt=0)


class MarkingCriterion(_Strict):
    criterion: str = Field(min_length=3)
    points: int = Field(ge=1)
    description: str = Field(min_length=10)


class _ItemFile(_Strict):
    id: Slug
    title: str = Field(min_length=3)
    intro: str | None = None

    @model_validator(mode="after")
    def _ids_unique_and_tiers_ordered(self) -> _ItemFile:
        items = self.items  # type: ignore[attr-defined]
        require_unique([i.id for i in items], "item ids")
        tiers = [TIER_ORDER[i.tier] for i in items]
        if tiers != sorted(tiers):
            raise ValueError("items must be ordered by tier: beginner, then intermediate, then advanced")
        return self


class RatingSet(_ItemFile):
    kind: Literal["rating"]
    items: list[RatingItem] = Field(min_length=1)


class ConcernSet(_ItemFile):
    kind: Literal["concerns"]
    items: list[StatementItem] = Field(min_length=1)


class ReferralSet(_ItemFile):
    kind: Literal["referral"]
    items: list[VignetteItem] = Field(min_length=1)


class MetricSet(_ItemFile):
    kind: Literal["metrics"]
    data: list[str] = Field(min_length=1, description="CSV files in course/data/ the items are computed from.")
    metrics: list[Metric] = Field(min_length=1)
    items: list[MetricItem] = Field(min_length=1)


class FreeTextSet(_ItemFile):
    kind: Literal["free-text"]
    marking: list[MarkingCriterion] = Field(min_length=1)
    items: list[StatementItem] = Field(min_length=1)

    @property
    def points_per_response(self) -> int:
        return sum(c.points for c in self.marking)


ItemSet = RatingSet | ConcernSet | ReferralSet | MetricSet | FreeTextSet
_BY_KIND: dict[str, type[BaseModel]] = {"rating": RatingSet, "concerns": ConcernSet, "referral": ReferralSet,
                                        "metrics": MetricSet, "free-text": FreeTextSet}


def item_set_exists(set_id: str) -> bool:
    from course.library import locate

    return locate("items", set_id) is not None


def load_item_set(source: str | Path) -> ItemSet:
    """Load an item file by id (from the content folders in force, see course.library) or by path, validated by its
    `kind`."""
    path = Path(source)
    if path.suffix not in (".yaml", ".yml"):
        from course.library import find

        return _cached(find("items", str(source)))
    return _load(path)


@cache
def _cached(path: Path) -> ItemSet:
    return _load(path)


def _load(path: Path) -> ItemSet:
    data = read_yaml(path)  # parsed once: its `kind` picks the model that validates it
    model = _BY_KIND.get(data.get("kind")) if isinstance(data.get("kind"), str) else None
    if model is None:
        raise ContentError(f"{path}: kind: must be one of {', '.join(_BY_KIND)}, found {data.get('kind')!r}.")
    return check_id_matches_file(validate(data, model, path), path)  # type: ignore[return-value]


def feelings_and_concerns() -> FeelingsAndConcerns:
    from course.library import setting

    return _vocabulary(setting("vocabulary/feelings-and-concerns.yaml"), FeelingsAndConcerns)


def referral_terms() -> ReferralTerms:
    from course.library import setting

    return _vocabulary(setting("vocabulary/referral.yaml"), ReferralTerms)


@cache
def _vocabulary(path: Path, model: type[BaseModel]) -> Any:
    return load_model(path, model)
