"""The practice bank: many short items for deliberate practice, each with its reference and a one-sentence reason.

Four kinds of item, one kind per file:

- ``code``: one client statement and one listener response; the learner codes the response with the rubric (its
  behaviour code and empathy level).
- ``best-response``: one client statement and three or four responses; the learner picks the most helpful.
- ``feeling-concern``: one client statement; the learner names the main feeling and the concern under it, from
  the course's vocabulary.
- ``refer``: a short vignette; the learner decides whether and how urgently to refer, from the course's referral
  decisions (least to most urgent).

The files hold the references, so they are answer keys: they live in ``solutions/practice/`` (the repository's, and
an instructor's own course folder's), never in ``course/`` or the installed package. Ids are stable: a learner's
history is keyed by them across new versions of the bank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from course import CONTENT_DIR
from course.loading import ContentError, check_id_matches_file, read_yaml, validate
from course.transcript import Tier

PRACTICE = Path("solutions") / "practice"  # inside a course folder (the repository is the shipped course's)
SHIPPED_PRACTICE = CONTENT_DIR.parent / PRACTICE  # absent from an installed package: keys never ship
Slug = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
ItemId = Annotated[str, Field(pattern=r"^[a-z]{2,4}-[a-z0-9]+(-[a-z0-9]+)*$",
                              description="Stable, unique in the bank, e.g. 'cd-sr-014' (kind prefix first).")]
Setting = Literal["counselling", "nursing", "helpline", "peer-support", "teaching", "workplace", "social-care",
                  "pharmacy", "community", "faith", "youth-work", "primary-care", "housing", "sport"]
KINDS = ("code", "best-response", "feeling-concern", "refer")
PREFIX = {"code": "cd", "best-response": "br", "feeling-concern": "fc", "refer": "rf"}
MAX_WHY = 320  # one sentence: the decisive cue, and why the nearest alternative does not fit


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _Item(_Strict):
    id: ItemId
    tier: Tier
    setting: Setting
    who: str = Field(min_length=5, max_length=160, description="One line: who is speaking, and where.")
    why: str = Field(min_length=20, max_length=MAX_WHY, description="One sentence naming the decisive cue.")
    sensitive: bool = Field(default=False, description="Touches suicide or self-harm: after it, the practice view "
                                                       "says where to find help (safe-messaging practice).")

    @model_validator(mode="after")
    def _one_sentence(self) -> _Item:
        text = self.why.rstrip()
        if not text.endswith((".", "!", "?", ".'", '."', ".)")):
            raise ValueError(f"{self.id}: why: should be one full sentence ending with a full stop")
        inner = text[:-1].replace("e.g.", "eg").replace("i.e.", "ie")
        if any(mark in inner for mark in (". ", "! ", "? ")):
            raise ValueError(f"{self.id}: why: should be ONE sentence; found more than one")
        return self


class CodeReference(_Strict):
    code: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")]
    empathy: int = Field(ge=1, le=10)


class CodeItem(_Item):
    client: str = Field(min_length=10)
    response: str = Field(min_length=2)
    reference: CodeReference


class BestResponseReference(_Strict):
    best: Literal["a", "b", "c", "d"]


class BestResponseItem(_Item):
    client: str = Field(min_length=10)
    responses: dict[Literal["a", "b", "c", "d"], str]
    reference: BestResponseReference

    @model_validator(mode="after")
    def _options(self) -> BestResponseItem:
        letters = list(self.responses)
        if letters not in (["a", "b", "c"], ["a", "b", "c", "d"]):
            raise ValueError(f"{self.id}: responses must be a, b, c (and optionally d) in order; found {letters}")
        if self.reference.best not in self.responses:
            raise ValueError(f"{self.id}: reference best {self.reference.best!r} is not one of the responses")
        return self


class FeelingConcernReference(_Strict):
    feeling: Slug
    concern: Slug


class FeelingConcernItem(_Item):
    client: str = Field(min_length=10)
    reference: FeelingConcernReference


class ReferReference(_Strict):
    decision: Slug


class ReferItem(_Item):
    vignette: str = Field(min_length=20)
    reference: ReferReference


PracticeItem = CodeItem | BestResponseItem | FeelingConcernItem | ReferItem
_ITEM_MODEL: dict[str, type[_Item]] = {"code": CodeItem, "best-response": BestResponseItem,
                                       "feeling-concern": FeelingConcernItem, "refer": ReferItem}


class _SetHeader(_Strict):
    id: Slug
    kind: Literal["code", "best-response", "feeling-concern", "refer"]
    title: str = Field(min_length=3)


class CodeSet(_SetHeader):
    kind: Literal["code"]
    items: list[CodeItem] = Field(min_length=1)


class BestResponseSet(_SetHeader):
    kind: Literal["best-response"]
    items: list[BestResponseItem] = Field(min_length=1)


class FeelingConcernSet(_SetHeader):
    kind: Literal["feeling-concern"]
    items: list[FeelingConcernItem] = Field(min_length=1)


class ReferSet(_SetHeader):
    kind: Literal["refer"]
    items: list[ReferItem] = Field(min_length=1)


PracticeSet = CodeSet | BestResponseSet | FeelingConcernSet | ReferSet
_SET_MODEL: dict[str, type[_SetHeader]] = {"code": CodeSet, "best-response": BestResponseSet,
                                           "feeling-concern": FeelingConcernSet, "refer": ReferSet}


@dataclass(frozen=True)
class Bank:
    """Every practice item in force, by id, with the set (file) each came from."""

    items: dict[str, PracticeItem]
    kind_of: dict[str, str]
    source: dict[str, Path]

    def of_kind(self, kind: str) -> list[PracticeItem]:
        return [item for item_id, item in self.items.items() if self.kind_of[item_id] == kind]


def load_practice_set(path: Path) -> PracticeSet:
    data = read_yaml(path)
    model = _SET_MODEL.get(data.get("kind")) if isinstance(data.get("kind"), str) else None
    if model is None:
        raise ContentError(f"{path}: kind: must be one of {', '.join(KINDS)}, found {data.get('kind')!r}.")
    found = check_id_matches_file(validate(data, model, path), path)
    prefix = PREFIX[found.kind]
    wrong = [i.id for i in found.items if not i.id.startswith(prefix + "-")]
    if wrong:
        raise ContentError(f"{path}: ids of {found.kind} items start with '{prefix}-'; fix {', '.join(wrong[:5])}.")
    return found  # type: ignore[return-value]


def practice_folders(start: Path | None = None) -> list[Path]:
    """The practice folders in force, most specific first: the course folder around ``start`` (default: the
    current folder), then the shipped course's (present in the repository, never in an installed package). A
    course with its own rubric practises on its own items only (the shipped ones are coded with another rubric)."""
    start = (start or Path.cwd()).resolve()
    own = next((f for f in (start, *start.parents) if (f / "nbgrader_config.py").is_file()), None)
    found: list[Path] = []
    if own is not None and (own / PRACTICE).is_dir() and own.resolve() != CONTENT_DIR.parent.resolve():
        found.append(own / PRACTICE)
        if (own / "content" / "rubric.yaml").is_file():
            return found
    if SHIPPED_PRACTICE.is_dir():
        found.append(SHIPPED_PRACTICE)
    return found


def load_bank(folders: Iterable[Path] | None = None) -> Bank:
    """Every item of every practice file in ``folders`` (default: :func:`practice_folders`), checked against the
    rubric and vocabularies in force. ContentError naming the file and item for anything wrong, and for an id
    defined twice."""
    return _load_bank(tuple(Path(f).resolve() for f in (practice_folders() if folders is None else folders)))


@cache
def _load_bank(folders: tuple[Path, ...]) -> Bank:
    items: dict[str, PracticeItem] = {}
    kinds: dict[str, str] = {}
    source: dict[str, Path] = {}
    shipped = {p.name: p.read_bytes() for p in SHIPPED_PRACTICE.glob("*.yaml")} if SHIPPED_PRACTICE.is_dir() else {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            if folder != SHIPPED_PRACTICE.resolve() and shipped.get(path.name) == path.read_bytes():
                continue  # a copy of a shipped file (a course folder copied whole): the same items, not a clash
            practice_set = load_practice_set(path)
            for item in practice_set.items:
                if item.id in items:
                    raise ContentError(f"{path}: item id {item.id!r} is also defined in {source[item.id]}; ids "
                                       "must be unique across the practice bank (a learner's history uses them).")
                items[item.id], kinds[item.id], source[item.id] = item, practice_set.kind, path
    check_references(items, kinds, source)
    return Bank(items, kinds, source)


def check_references(items: dict[str, PracticeItem], kinds: dict[str, str], source: dict[str, Path]) -> None:
    """Every reference names a code of the rubric in force and a level on its scale, a feeling and concern of the
    vocabulary, a referral decision of the course's list."""
    from course.items import feelings_and_concerns, referral_terms
    from course.rubric import load_rubric

    rubric = load_rubric()
    codes = {c.id for c in rubric.codes}
    levels = {level.level for level in rubric.empathy.levels}
    vocabulary = feelings_and_concerns()
    feelings, concerns = {t.id for t in vocabulary.feelings}, {t.id for t in vocabulary.concerns}
    decisions = {t.id for t in referral_terms().decisions}
    problems = []
    for item_id, item in items.items():
        ref = item.reference
        if isinstance(item, CodeItem):
            if ref.code not in codes:
                problems.append(f"{source[item_id]}: {item_id}: code {ref.code!r} is not in the rubric")
            if ref.empathy not in levels:
                problems.append(f"{source[item_id]}: {item_id}: empathy {ref.empathy} is not on the rubric's scale")
        elif isinstance(item, FeelingConcernItem):
            if ref.feeling not in feelings:
                problems.append(f"{source[item_id]}: {item_id}: feeling {ref.feeling!r} is not in the vocabulary")
            if ref.concern not in concerns:
                problems.append(f"{source[item_id]}: {item_id}: concern {ref.concern!r} is not in the vocabulary")
        elif isinstance(item, ReferItem) and ref.decision not in decisions:
            problems.append(f"{source[item_id]}: {item_id}: decision {ref.decision!r} is not a referral decision")
    if problems:
        raise ContentError("practice bank: " + "; ".join(problems[:20])
                           + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))


# -- judging one answer ----------------------------------------------------------------------------------------
EMPATHY_TOLERANCE = 1  # a level one step off the reference still counts: trained coders differ by one this often


@dataclass(frozen=True)
class Judgement:
    """How one answer compares with the item's reference. ``main_given``/``main_expected`` are the answer's main
    part in one string (a code, a letter, "feeling/concern", a decision): what the scheduler's confusion matrix and
    the history keep."""

    correct: bool
    main_given: str
    main_expected: str
    lines: tuple[str, ...]  # what was right and what was not, one line per part, for the feedback


def main_of(kind: str, fields: Mapping[str, Any]) -> str:
    """The main part of an answer or reference of an item of ``kind``, as one string (see :class:`Judgement`): the
    code, the letter, "feeling/concern", or the decision."""
    if kind == "feeling-concern":
        return f"{fields.get('feeling')}/{fields.get('concern')}"
    return str(fields.get({"code": "code", "best-response": "best", "refer": "decision"}[kind]))


def kind_of(item: PracticeItem) -> str:
    return next(kind for kind, model in _ITEM_MODEL.items() if isinstance(item, model))


def main_answer(item: PracticeItem) -> str:
    """The reference's main part as one string (see :class:`Judgement`)."""
    return main_of(kind_of(item), item.reference.model_dump())


def judge(item: PracticeItem, answer: dict) -> Judgement:
    """Compare ``answer`` (the fields of the item's reference: code and empathy; best; feeling and concern;
    decision) with the reference. A code item is right when the code matches and the empathy level is within
    EMPATHY_TOLERANCE of the reference's; every other kind needs every part to match."""
    ref = item.reference.model_dump()
    lines, right = [], True
    for name, expected in ref.items():
        given = answer.get(name)
        if name == "empathy" and isinstance(given, int) and not isinstance(given, bool):
            ok = abs(given - expected) <= EMPATHY_TOLERANCE
            exact = "" if given == expected else (" (one level off: close enough)" if ok else "")
            lines.append(f"{name}: you {given}, reference {expected}{exact}")
        else:
            ok = given == expected
            lines.append(f"{name}: you {given if given is not None else '(none)'}, reference {expected}")
        right = right and ok
    kind = kind_of(item)
    return Judgement(right, main_of(kind, answer), main_of(kind, ref), tuple(lines))


def skill_of(item: PracticeItem, kind: str) -> str:
    """The distinction an item trains: a code item's reference code; otherwise its kind."""
    return item.reference.code if isinstance(item, CodeItem) else kind
