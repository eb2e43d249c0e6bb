"""An exercise part: what is answered (items and their fields), how each field is scored (rules), and what
the trainee sees (blocks of text, each followed by the controls for an item, if any).

A part is named by the content it is built from: a transcript id (code every therapist turn) or an item file
id (rate responses, identify concerns, decide on referral, compute session metrics).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from autograder.core.scoring import Rule, coding_rules

PartKind = Literal["coding", "rating", "concerns", "referral", "metrics"]
LETTERS = ("a", "b", "c", "d")


@dataclass(frozen=True)
class Block:
    """Text shown in the form (HTML and plain), then the controls of `item_id` if it has one."""

    html: str
    text: str
    item_id: str | None = None
    css: str = "attune-item"


@dataclass(frozen=True)
class Part:
    id: str
    kind: PartKind
    title: str
    tier: str
    intro: str
    items: dict[str, tuple[str, ...]]
    rules: dict[str, Rule]
    choices: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    blocks: tuple[Block, ...] = ()
    missing: str = "not answered yet"

    @property
    def n_fields(self) -> int:
        return sum(len(f) for f in self.items.values())

    def as_text(self) -> str:
        """The part as plain text: what shows where widgets cannot (feedback pages, plain viewers)."""
        return "\n".join([self.title, "", self.intro, "", *(b.text for b in self.blocks)])

    def as_html(self) -> str:
        """The part as static HTML, for feedback pages."""
        blocks = "".join(f"<p>{b.html}</p>" for b in self.blocks)
        return f"<h3>{_esc(self.title)}</h3><p><em>{_esc(self.intro)}</em></p>{blocks}"

    def field_label(self, item_id: str, name: str) -> str:
        """The accessible name of one control, e.g. 'T3 empathy level' or 'R02 response b rating'."""
        if self.kind == "rating" and name in LETTERS:
            return f"{item_id} response {name} rating"
        return f"{item_id} {self.rules[name].label}"


def _esc(text: str) -> str:
    return html.escape(text)


def load_part(part_id: str) -> Part:
    """The part built from the transcript or item file with this id, in the content folders in force."""
    from course.library import content_folders, locate, setting
    from course.loading import ContentError

    transcript, item_set = locate("transcripts", part_id), locate("items", part_id)
    if transcript is not None and item_set is not None:
        raise ContentError(f"The id {part_id!r} names both a transcript ({transcript}) and an item file "
                           f"({item_set}); rename one.")
    if transcript is None and item_set is None:
        where = ", ".join(f"{f}/transcripts, {f}/items" for f in content_folders())
        raise ContentError(f"No transcript or item file with id {part_id!r} in {where}.")
    return _load_part(part_id, transcript, item_set, setting("rubric.yaml"))


@cache
def _load_part(part_id: str, transcript: object, item_set: object, rubric: object) -> Part:
    # Keyed by the files it is built from (found afresh on every call), so a course's own part and a shipped one
    # of the same name, or a course that gained its own rubric, never share a cached part.
    from course.items import load_item_set

    if transcript is not None:
        return _coding_part(part_id)
    loaded = load_item_set(part_id)
    builder = {"rating": _rating_part, "concerns": _concerns_part, "referral": _referral_part,
               "metrics": _metrics_part, "free-text": _self_coding_part}[loaded.kind]
    return builder(loaded)


def _coding_part(transcript_id: str) -> Part:
    from course.rubric import load_rubric
    from course.transcript import load_transcript

    rubric, t = load_rubric(), load_transcript(transcript_id)
    blocks = []
    for turn in t.turns:
        who = t.speaker_name(turn)
        blocks.append(Block(
            f'<span class="attune-who">{_esc(who)} ({turn.id}):</span> {_esc(turn.text)}',
            f"{who} ({turn.id}): {turn.text}",
            turn.id if turn.speaker == "therapist" else None,
            f"attune-turn attune-{turn.speaker}"))
    return Part(
        id=t.id, kind="coding", title=t.title, tier=t.tier, intro=t.context,
        items={tid: ("code", "empathy") for tid in t.coded_turn_ids},
        rules=coding_rules(rubric.code_ids, rubric.empathy_levels),
        choices={"code": [(f"{c.id} · {c.label}", c.id) for c in rubric.codes],
                 "empathy": [(f"{lvl.level} · {lvl.label}", lvl.level) for lvl in rubric.empathy.levels]},
        blocks=tuple(blocks), missing="not coded yet")


def _statement_block(item: Any, body: str) -> Block:
    return Block(f'<b>{item.id}</b> · <i>{_esc(item.who)}</i> <span class="attune-tier">({item.tier})</span>'
                 f"<br>{body}", f"{item.id} ({item.who}, {item.tier})", item.id, "attune-turn attune-client")


def _rating_part(s: Any) -> Part:
    from course.rubric import load_rubric

    rubric = load_rubric()
    levels = rubric.empathy_levels
    rules = {letter: Rule("ordinal", "empathy rating", levels) for letter in LETTERS}
    rules["best"] = Rule("exact", "most helpful response", LETTERS)
    blocks = []
    for item in s.items:
        responses = "".join(f"<li><b>{k})</b> {_esc(v)}</li>" for k, v in item.responses.items())
        block = _statement_block(item, f"&ldquo;{_esc(item.statement)}&rdquo;<ol class='attune-responses'>"
                                       f"{responses}</ol>")
        text = "\n".join([block.text, f'"{item.statement}"', *(f"  {k}) {v}" for k, v in item.responses.items())])
        blocks.append(Block(block.html, text, item.id, block.css))
    return Part(
        id=s.id, kind="rating", title=s.title, tier=s.items[0].tier, intro=s.intro or "",
        items={i.id: (*i.responses, "best") for i in s.items}, rules=rules,
        choices={**{letter: [(f"{lvl.level} · {lvl.label}", lvl.level) for lvl in rubric.empathy.levels]
                    for letter in LETTERS}, "best": [(letter, letter) for letter in LETTERS]},
        blocks=tuple(blocks))


def _labelled_part(s: Any, kind: PartKind, fields: dict[str, tuple[str, str, tuple]]) -> Part:
    """A part whose items are read and answered from vocabularies: fields maps name -> (rule kind, label, terms)."""
    blocks = []
    for item in s.items:
        words = item.vignette if kind == "referral" else item.statement
        shown = _esc(words) if kind == "referral" else f"&ldquo;{_esc(words)}&rdquo;"
        block = _statement_block(item, shown)
        blocks.append(Block(block.html, f"{block.text}\n{words}", item.id, block.css))
    return Part(
        id=s.id, kind=kind, title=s.title, tier=s.items[0].tier, intro=s.intro or "",
        items={i.id: tuple(fields) for i in s.items},
        rules={name: Rule(rule, label, tuple(t.id for t in terms)) for name, (rule, label, terms) in fields.items()},
        choices={name: [(t.label, t.id) for t in terms] for name, (_, _, terms) in fields.items()},
        blocks=tuple(blocks))


def _concerns_part(s: Any) -> Part:
    from course.items import feelings_and_concerns

    vocab = feelings_and_concerns()
    return _labelled_part(s, "concerns", {"feelings": ("set", "feelings", tuple(vocab.feelings)),
                                          "concerns": ("set", "concerns", tuple(vocab.concerns))})


def _referral_part(s: Any) -> Part:
    from course.items import referral_terms

    terms = referral_terms()
    return _labelled_part(s, "referral", {"decision": ("ordinal", "referral decision", tuple(terms.decisions)),
                                          "cues": ("set", "risk and scope cues", tuple(terms.cues))})


def _self_coding_part(s: Any) -> Part:
    """Free-text responses are graded by hand; the form codes the trainee's OWN responses to them."""
    from course.rubric import load_rubric

    rubric = load_rubric()
    blocks = []
    for item in s.items:
        block = _statement_block(item, f"&ldquo;{_esc(item.statement)}&rdquo; <i>(code your own response to "
                                       "this statement)</i>")
        blocks.append(Block(block.html, f'{block.text}\n"{item.statement}"', item.id, block.css))
    return Part(
        id=s.id, kind="coding", title=f"Coding your own responses: {s.title}", tier=s.items[0].tier,
        intro="Code each response you wrote above as if someone else had written it.",
        items={i.id: ("code", "empathy") for i in s.items},
        rules=coding_rules(rubric.code_ids, rubric.empathy_levels),
        choices={"code": [(f"{c.id} · {c.label}", c.id) for c in rubric.codes],
                 "empathy": [(f"{lvl.level} · {lvl.label}", lvl.level) for lvl in rubric.empathy.levels]},
        blocks=tuple(blocks), missing="not coded yet")


def _metrics_part(s: Any) -> Part:
    rules = {m.id: Rule("number", m.label, tolerance=m.tolerance) for m in s.metrics}
    blocks = []
    for item in s.items:
        blocks.append(Block(f"<b>{_esc(item.id)}</b> ({item.tier}): {_esc(item.prompt)}",
                            f"{item.id} ({item.tier}): {item.prompt}", item.id, "attune-turn attune-client"))
    return Part(
        id=s.id, kind="metrics", title=s.title, tier=s.items[0].tier, intro=s.intro or "",
        items={i.id: tuple(m.id for m in s.metrics) for i in s.items}, rules=rules, blocks=tuple(blocks))
