"""Adjudicate("transcript-id"): decide each open disagreement between a key and its blind second coding.

For every open disagreement the widget shows the turn (and the client's turn before it), the key's coding with its
why, and the second coder's; the instructor chooses whose coding stands (or another code and level) and writes why
(required). Save records each decision in the second-coding record's resolutions: and writes the chosen code and
level, with its why, into the key file (course.adjudication: each file replaced atomically).

Its Python API is what the buttons call: ``choose(turn, "key" | "second" | "other", rationale, ...)`` then
``save()``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.adjudication import Case, Choice, Decision, Disagreement, adjudicate, cases, open_disagreements
from course.errors import AttuneError

CHOICES: tuple[Choice, ...] = ("key", "second", "other")


@dataclass
class _Row:
    case: Case
    disagreement: Disagreement
    controls: dict[str, Any]


class Adjudicate:
    """The open disagreements of every second coding of ``transcript`` in the course folder around ``root``
    (default: the current folder)."""

    def __init__(self, transcript: str, *, root: Path | str | None = None):
        from course.rubric import load_rubric

        self.transcript = transcript
        self.root = Path(root) if root is not None else None
        self.rubric = load_rubric()
        self._cases = cases(transcript, self.root)
        self._rows: dict[tuple[str, str], _Row] = {}
        self.saved: list[tuple[str, str]] = []  # (record, turn) decided by save(), in order
        import ipywidgets as w

        self.widget = w.VBox()
        self._build()

    # -- the Python API --------------------------------------------------------------------------------------------
    @property
    def open(self) -> list[tuple[str, str]]:
        """(record, turn) of every disagreement still open on disk when the widget was (re)built."""
        return list(self._rows)

    def _row(self, turn: str, record: str | None) -> _Row:
        matches = [r for (name, t), r in self._rows.items() if t == turn and (record is None or name == record)]
        if not matches:
            raise AttuneError(f"{turn}: no open disagreement of {self.transcript} on this turn "
                              f"(open: {', '.join(f'{n} {t}' for n, t in self._rows) or 'none'}).")
        if len(matches) > 1:
            raise AttuneError(f"{turn}: open in several records ({', '.join(r.case.name for r in matches)}); "
                              "name one with record=.")
        return matches[0]

    def choose(self, turn: str, choice: Choice, rationale: str, *, code: str | None = None,
               empathy: int | None = None, key_why: str | None = None, record: str | None = None) -> None:
        """Set the decision on one turn, as the controls would: ``choice`` "key", "second" or "other" (with
        ``code`` and ``empathy``); ``rationale`` is required; ``key_why`` replaces the key's why for trainees."""
        if choice not in CHOICES:
            raise AttuneError(f"{turn}: choose 'key', 'second' or 'other', not {choice!r}.")
        c = self._row(turn, record).controls
        c["choice"].value = choice
        if choice == "other":
            c["code"].value = code
            c["empathy"].value = empathy
        c["rationale"].value = rationale
        c["key_why"].value = key_why or ""

    def decisions(self) -> list[tuple[Case, Decision]]:
        """The decisions set so far (a turn counts once a choice is made)."""
        found = []
        for (_name, turn), row in self._rows.items():
            c = row.controls
            if c["choice"].value is None:
                continue
            other = c["choice"].value == "other"
            found.append((row.case, Decision(turn, c["choice"].value, c["rationale"].value,
                                             code=c["code"].value if other else None,
                                             empathy=c["empathy"].value if other else None,
                                             key_why=c["key_why"].value or None)))
        return found

    def save(self) -> list[tuple[str, str]]:
        """Write every decision set: the record's resolution and the key's code, level and why. A refused decision
        (no rationale, say) writes nothing for its record and is reported; returns what was saved."""
        saved, problems = [], []
        by_case: dict[Path, tuple[Case, list[Decision]]] = {}
        for case, decision in self.decisions():
            by_case.setdefault(case.record_path, (case, []))[1].append(decision)
        for case, decisions in by_case.values():
            try:
                adjudicate(case, decisions, codes=self.rubric.code_ids, levels=self.rubric.empathy_levels)
            except AttuneError as err:
                problems.append(str(err))
                continue
            saved += [(case.name, d.turn) for d in decisions]
        self.saved += saved
        if saved:
            self._cases = cases(self.transcript, self.root)
            self._build()
        self._message.value = "<p>" + html.escape(
            (f"Saved {len(saved)} decision(s) into the key and the record. " if saved else "Nothing saved. ")
            + " ".join(problems)) + "</p>"
        if problems and not saved:
            raise AttuneError(" ".join(problems))
        return saved

    # -- display ---------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        import ipywidgets as w

        rows: dict[tuple[str, str], _Row] = {}
        boxes = []
        codes = list(self.rubric.code_ids)
        levels = list(self.rubric.empathy_levels)
        for case in self._cases:
            texts = _turns(self.transcript)
            for d in open_disagreements(case.record):
                key_entry = (case.key.get("turns") or {}).get(d.turn) or {}
                controls = {
                    "choice": w.RadioButtons(options=[
                        (f"the key's: {d.key['code']} {d.key['empathy']}", "key"),
                        (f"the second coder's: {d.second['code']} {d.second['empathy']}", "second"),
                        ("another code and level", "other")], value=None, description="Decision",
                        layout=w.Layout(width="auto")),
                    "code": w.Dropdown(options=[("(code)", None), *((c, c) for c in codes)], value=None,
                                       description="Code"),
                    "empathy": w.Dropdown(options=[("(level)", None), *((str(v), v) for v in levels)], value=None,
                                          description="Empathy"),
                    "rationale": w.Textarea(placeholder="Required: which reading wins, and why (it goes into the "
                                                        "record's resolutions)", description="Why",
                                            layout=w.Layout(width="95%")),
                    "key_why": w.Textarea(placeholder="Optional: the key's new why for trainees (default: the "
                                                      "rationale, when the key changes)", description="Key's why",
                                          layout=w.Layout(width="95%")),
                }
                before, text = texts.get(d.turn, ("", "(turn text not found)"))
                coder = case.coder or "the second coder"
                shown = (f"<h4>{html.escape(d.turn)} · differ on {', '.join(d.fields)} "
                         f"<small>({html.escape(case.name)})</small></h4>"
                         + (f"<p><em>{html.escape(before)}</em></p>" if before else "")
                         + f"<blockquote>{html.escape(text)}</blockquote>"
                         f"<p><b>Key:</b> {html.escape(str(d.key['code']))} {html.escape(str(d.key['empathy']))}"
                         f" · {html.escape(str(key_entry.get('why', '')))}</p>"
                         f"<p><b>{html.escape(coder)}:</b> {html.escape(str(d.second['code']))} "
                         f"{html.escape(str(d.second['empathy']))}"
                         + (f" · {html.escape(str(d.second['why']))}" if d.second.get("why") else "") + "</p>")
                rows[(case.name, d.turn)] = _Row(case, d, controls)
                boxes.append(w.VBox([w.HTML(shown), controls["choice"],
                                     w.HBox([controls["code"], controls["empathy"]]), controls["rationale"],
                                     controls["key_why"]]))
        self._rows = rows
        button = w.Button(description="Save decisions", button_style="primary")
        button.on_click(lambda _b: self._on_save())
        self._message = w.HTML("" if rows else f"<p>No open disagreements in the second coding of "
                                               f"{html.escape(self.transcript)}.</p>")
        self.widget.children = (w.HTML(f"<h3>Adjudication · {html.escape(self.transcript)}: {len(rows)} open</h3>"),
                                 *boxes, button, self._message)

    def _on_save(self) -> None:
        try:
            self.save()
        except AttuneError as err:
            self._message.value = f"<p>{html.escape(str(err))}</p>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def _turns(transcript: str) -> dict[str, tuple[str, str]]:
    """{listener turn: (the turn before it, as 'Client: text'; the turn's text)}."""
    from course.transcript import load_transcript

    try:
        t = load_transcript(transcript)
    except AttuneError:
        return {}
    found, before = {}, ""
    for turn in t.turns:
        if turn.speaker == "therapist":
            found[turn.id] = (before, turn.text)
        before = f"{t.speaker_name(turn)}: {turn.text}"
    return found
