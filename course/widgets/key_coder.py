"""The key coder: an instructor writes the expert key of a transcript in JupyterLab (never released to trainees).

In a notebook in the course folder::

    from course.widgets import KeyCoder
    KeyCoder("maya-first-call", key_path="keys/maya-first-call.yaml")

Every listener turn is shown with the turns before it since the last listener turn (its context), a behaviour
code, an empathy level and a rationale. Each change goes straight into the key file (see course.keys: merged into
the file as it is, written atomically), so closing the notebook loses nothing and the next KeyCoder resumes from
the file. A whole session has 150 listener turns and more; rendering 450 controls at once makes JupyterLab slow,
so one page of turns is shown at a time, in a fixed set of rows whose contents change with the page (no widgets
are created or destroyed when paging).
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.keys import default_key_path, entry_problem, file_problems, read_key, record_turns
from course.loading import ContentError

NOT_CHOSEN = "(not chosen)"  # the dropdowns' empty value; never a code or a level
PAGE_SIZE = 10
CONTROLS = {"code": "behaviour code", "empathy": "empathy level", "why": "rationale"}

_CSS = """<style>
.attune-keycoder .attune-turn {margin: .3em 0 .1em 0; padding: .3em .6em; border-radius: 6px; line-height: 1.45}
.attune-keycoder .attune-client {background: var(--jp-layout-color2, #f3f3f3)}
.attune-keycoder .attune-therapist {background: var(--jp-brand-color3, #e3f0fb)}
.attune-keycoder .attune-who {font-weight: 600}
.attune-keycoder h3 {margin: .8em 0 .2em 0; font-size: 1.05em}
.attune-keycoder .attune-note {font-style: italic; margin: .2em 0 0 .6em}
.attune-keycoder .widget-html-content {line-height: 1.45}
.attune-keycoder textarea {min-height: 3.2em}
</style>"""


@dataclass
class _Row:
    """One slot of the page: it shows whichever turn the page puts in it."""

    box: Any
    context: Any
    code: Any
    empathy: Any
    why: Any
    state: Any
    turn_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # a value from the file not in the rubric, per dropdown

    def control(self, name: str) -> Any:
        return getattr(self, name)


class KeyCoder:
    """Write the key of one transcript, turn by turn, straight into its key file.

    ``key_path`` (relative to the notebook's folder) defaults to the key already in the course folder around the
    notebook (<course>/keys/ or <course>/solutions/*/keys/), else <course>/keys/<transcript>.yaml.
    """

    def __init__(self, transcript_id: str, key_path: str | Path | None = None, *, page_size: int = PAGE_SIZE):
        from course.parts import load_part
        from course.rubric import load_rubric
        from course.transcript import load_transcript

        self.part = load_part(transcript_id)
        if self.part.kind != "coding":
            raise ContentError(f"{transcript_id!r} is an item file, not a transcript: KeyCoder keys transcripts.")
        self.transcript = load_transcript(transcript_id)
        self.rubric = load_rubric()
        self.turn_ids: tuple[str, ...] = tuple(self.part.items)
        self.codes: tuple[str, ...] = tuple(self.part.rules["code"].values)
        self.levels: tuple[int, ...] = tuple(self.part.rules["empathy"].values)
        self.path = (Path(key_path) if key_path else default_key_path(transcript_id)).resolve()
        # A file that cannot be read (not YAML, another transcript's key) raises here: it is never overwritten.
        self.doc = read_key(self.path, transcript_id)
        self.problems: list[str] = self._file_problems()
        self.page_size = max(1, int(page_size))
        self.page = 0
        self._pending: dict[str, dict[str, Any]] = {}  # changes not yet in the file (a write failed)
        self._restoring = False
        self._context = self._contexts()
        self._saved = "Nothing changed yet; every change is saved into the key file at once."
        self._build()
        first = self.next_to_key()
        self.show_page(self.page_of(first) if first else 0, focus=False)

    # -- the key as it stands ----------------------------------------------------------------------------------
    def entry(self, turn_id: str) -> dict[str, Any]:
        entry = (self.doc.get("turns") or {}).get(turn_id)
        return {**(entry if isinstance(entry, dict) else {}), **self._pending.get(turn_id, {})}

    def problem(self, turn_id: str) -> str | None:
        """Why a turn is not keyed yet (None: it is keyed)."""
        raw = (self.doc.get("turns") or {}).get(turn_id)
        if raw is not None and not isinstance(raw, dict) and turn_id not in self._pending:
            return entry_problem(raw, self.codes, self.levels)
        return entry_problem(self.entry(turn_id), self.codes, self.levels)

    def started(self, turn_id: str) -> bool:
        return turn_id in (self.doc.get("turns") or {}) or turn_id in self._pending

    def keyed(self) -> list[str]:
        return [t for t in self.turn_ids if self.problem(t) is None]

    def incomplete(self) -> dict[str, str]:
        """Turns begun but not keyed, with what they lack."""
        return {t: p for t in self.turn_ids if self.started(t) and (p := self.problem(t)) is not None}

    def progress(self) -> tuple[int, int]:
        return len(self.keyed()), len(self.turn_ids)

    def next_to_key(self, after: int = -1) -> str | None:
        """The first turn not keyed after position ``after`` (wrapping round), or None when all are keyed."""
        n = len(self.turn_ids)
        for step in range(1, n + 1):
            turn_id = self.turn_ids[(after + step) % n]
            if self.problem(turn_id) is not None:
                return turn_id
        return None

    def _file_problems(self) -> list[str]:
        return file_problems(self.doc, self.turn_ids, self.codes, self.levels, self.transcript.id)

    # -- pages ------------------------------------------------------------------------------------------------
    @property
    def pages(self) -> int:
        return -(-len(self.turn_ids) // self.page_size)

    def page_of(self, turn_id: str) -> int:
        return self.turn_ids.index(turn_id) // self.page_size

    def page_turns(self, page: int | None = None) -> tuple[str, ...]:
        page = self.page if page is None else page
        return self.turn_ids[page * self.page_size:(page + 1) * self.page_size]

    def show_page(self, page: int, *, focus: bool = True) -> None:
        """Show one page of turns in the rows; ``focus`` puts the keyboard on its first control."""
        self.page = min(max(0, page), self.pages - 1)
        turns = self.page_turns()
        for index, row in enumerate(self.rows):
            row.turn_id = turns[index] if index < len(turns) else None
            row.box.layout.display = None if row.turn_id else "none"
        self._refill()
        self._refresh()
        if focus:
            self.rows[0].code.focus()

    def next_page(self) -> None:
        self.show_page(self.page + 1)

    def previous_page(self) -> None:
        self.show_page(self.page - 1)

    def go_to_next_to_key(self) -> str | None:
        """Show the page of the next turn not keyed after this page's and put the keyboard on what it lacks."""
        last_here = self.turn_ids.index(self.page_turns()[-1])
        turn_id = self.next_to_key(after=last_here)
        if turn_id is None:
            self._saved = f"All {len(self.turn_ids)} turns are keyed."
            self._refresh()
            return None
        self.show_page(self.page_of(turn_id), focus=False)
        entry = self.entry(turn_id)
        allowed = {"code": self.codes, "empathy": self.levels}
        missing = next((n for n in CONTROLS if entry.get(n) in (None, "")
                        or (n in allowed and entry[n] not in allowed[n])), "code")
        self.row(turn_id).control(missing).focus()
        return turn_id

    def row(self, turn_id: str) -> _Row:
        """The row showing ``turn_id`` (its page is shown first if need be)."""
        if turn_id not in self.page_turns():
            self.show_page(self.page_of(turn_id), focus=False)
        return next(r for r in self.rows if r.turn_id == turn_id)

    # -- widgets ----------------------------------------------------------------------------------------------
    def _contexts(self) -> dict[str, list[Any]]:
        """For each listener turn, the turns since the listener's previous turn (the client's words it answers)."""
        contexts, since = {}, []
        for turn in self.transcript.turns:
            if turn.speaker == "therapist":
                contexts[turn.id], since = since, []
            else:
                since.append(turn)
        return contexts

    def _build(self) -> None:
        import ipywidgets as w

        t = self.transcript
        style = {"description_width": "initial"}
        self.rows = []
        for _ in range(min(self.page_size, len(self.turn_ids))):
            code = w.Dropdown(options=self._options("code"), value=NOT_CHOSEN, description="behaviour code",
                              style=style, layout=w.Layout(width="auto"))
            empathy = w.Dropdown(options=self._options("empathy"), value=NOT_CHOSEN, description="empathy level",
                                 style=style, layout=w.Layout(width="auto"))
            why = w.Textarea(value="", description="rationale", style=style, continuous_update=False, rows=2,
                             placeholder="Why this code and level (required): what trainees learn from",
                             layout=w.Layout(width="95%"))
            context, state = w.HTML(), w.HTML()
            box = w.VBox([context, w.HBox([code, empathy, state], layout=w.Layout(flex_flow="row wrap")), why],
                         layout=w.Layout(margin="0 0 .8em 0"))
            row = _Row(box, context, code, empathy, why, state)
            for name in CONTROLS:
                row.control(name).observe(lambda change, r=row, n=name: self._on_change(r, n, change["new"]),
                                          names="value")
            self.rows.append(row)
        self._progress, self._status, self._report = w.HTML(), w.HTML(), w.HTML()
        previous = w.Button(description="Previous page", icon="arrow-left")
        following = w.Button(description="Next page", icon="arrow-right")
        jump = w.Button(description="Next turn to key", icon="forward")
        previous.on_click(lambda _b: self.previous_page())
        following.on_click(lambda _b: self.next_page())
        jump.on_click(lambda _b: self.go_to_next_to_key())
        self._previous, self._next, self._jump = previous, following, jump
        self._pager = w.Dropdown(options=[(self._page_label(p), p) for p in range(self.pages)], value=0,
                                 description="Page", style=style, layout=w.Layout(width="auto"))
        self._pager.observe(lambda change: None if self._restoring else self.show_page(change["new"]),
                            names="value")
        header = w.HTML(
            f"{_CSS}<h2>Key: {html.escape(t.title)}</h2><p><em>{html.escape(t.context)}</em></p>"
            f"<p>For every listener turn choose the behaviour code and the empathy level and write why (one or two "
            f"sentences trainees learn from). Every change is saved at once into "
            f"<code>{html.escape(str(self.path))}</code>; a rationale is saved when you leave its box.</p>")
        reference = w.Accordion(children=[w.HTML(self._reference_html())], titles=("Quick reference: the rubric",))
        reference.selected_index = None
        nav = w.HBox([previous, following, self._pager, jump], layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([header, self._progress, self._status, self._report, reference,
                              *(r.box for r in self.rows), nav])
        self.widget.add_class("attune-keycoder")

    def _options(self, name: str, extra: Any = None) -> list[tuple[str, Any]]:
        choices = self.part.choices[name]
        first = (f"choose ({CONTROLS[name]})", NOT_CHOSEN)
        if extra is None:
            return [first, *choices]
        return [first, *choices, (f"{extra} (not in the rubric: choose another)", extra)]

    def _page_label(self, page: int) -> str:
        turns = self.page_turns(page)
        return f"{page + 1} of {self.pages}: {turns[0]}–{turns[-1]}"

    def _fill(self, row: _Row) -> None:
        """Put the row's turn into its controls (observers are off: this is not a change to save)."""
        turn_id = row.turn_id
        assert turn_id is not None
        entry = self.entry(turn_id)
        for name in ("code", "empathy"):
            value = entry.get(name)
            allowed = self.codes if name == "code" else self.levels
            bad = None if value in (None, "") or (value in allowed and not isinstance(value, bool)) else value
            control = row.control(name)
            if bad != row.extra.get(name):  # only then send new options: most pages need none
                control.options = self._options(name, bad)
                row.extra[name] = bad
            control.value = NOT_CHOSEN if value in (None, "") else value
            control.description = f"{turn_id} {CONTROLS[name]}"
        why = entry.get("why")
        row.why.value = "" if why is None else str(why)
        row.why.description = f"{turn_id} {CONTROLS['why']}"
        row.context.value = self._context_html(turn_id)
        self._show_state(row)

    def _context_html(self, turn_id: str) -> str:
        t = self.transcript
        turn = next(x for x in t.turns if x.id == turn_id)
        number = self.turn_ids.index(turn_id) + 1
        said = "".join(f'<div class="attune-turn attune-client"><span class="attune-who">'
                       f"{html.escape(t.speaker_name(c))} ({c.id}):</span> {html.escape(c.text)}</div>"
                       for c in self._context[turn_id])
        note = self.entry(turn_id).get("note")
        note_html = f'<div class="attune-note">Note in the key: {html.escape(str(note))}</div>' if note else ""
        return (f"<h3>{turn_id} (listener turn {number} of {len(self.turn_ids)})</h3>{said}"
                f'<div class="attune-turn attune-therapist"><span class="attune-who">'
                f"{html.escape(t.therapist)} ({turn_id}):</span> {html.escape(turn.text)}</div>{note_html}")

    def _show_state(self, row: _Row) -> None:
        assert row.turn_id is not None
        problem = self.problem(row.turn_id)
        row.state.value = ("<span>&#10003; keyed</span>" if problem is None else
                           f"<span>Not keyed yet: {html.escape(problem)}</span>")

    # -- changes ----------------------------------------------------------------------------------------------
    def _on_change(self, row: _Row, name: str, value: Any) -> None:
        if self._restoring or row.turn_id is None:
            return
        if name == "why":
            value = value.strip()
        self._pending.setdefault(row.turn_id, {})[name] = None if value in (NOT_CHOSEN, "") else value
        if self.save():
            self._refill()  # the file may hold edits made elsewhere meanwhile: show them
        self._show_state(row)
        self._refresh()

    def _refill(self) -> None:
        """Show the page's turns as the key now holds them (observers off: this is not a change to save)."""
        self._restoring = True
        try:
            for row in self.rows:
                if row.turn_id:
                    self._fill(row)
            self._pager.value = self.page
        finally:
            self._restoring = False

    def save(self) -> bool:
        """Write every change not yet in the key file (merged into the file as it is now); say how it went."""
        if not self._pending:
            return True
        turns = ", ".join(self._pending)
        try:
            self.doc = record_turns(self.path, self.transcript.id, self._pending)
        except (OSError, ContentError) as err:
            # The change stays in the form and is written with the next one; the old file is intact.
            self._saved = (f"<b>Not saved</b> ({turns}): {html.escape(str(err))}. The key file is unchanged; "
                           "your choices stay here and are saved with your next change once the problem is fixed.")
            return False
        self._pending.clear()
        self.problems = self._file_problems()
        self._saved = f"Saved {html.escape(turns)} into the key file at {time.strftime('%H:%M:%S')}."
        return True

    def _refresh(self) -> None:
        done, total = self.progress()
        turns = self.page_turns()
        self._progress.value = (f'<p role="status"><b>{done} of {total} turns keyed.</b> Page {self.page + 1} of '
                                f"{self.pages} ({turns[0]}–{turns[-1]}).</p>")
        self._status.value = f'<p role="status">{self._saved}</p>'
        lines = []
        if self.problems:
            lines.append("<p><b>In the key file, not in this transcript or its rubric</b> (kept in the file):</p>"
                         "<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in self.problems) + "</ul>")
        incomplete = self.incomplete()
        if incomplete:
            lines.append("<p><b>Incomplete turns:</b></p><ul>" + "".join(
                f"<li>{t}: {html.escape(p)}</li>" for t, p in incomplete.items()) + "</ul>")
        untouched = total - done - len(incomplete)
        if untouched:
            lines.append(f"<p>{untouched} turn(s) not begun.</p>")
        self._report.value = "".join(lines)
        self._previous.disabled = self.page == 0
        self._next.disabled = self.page >= self.pages - 1
        self._jump.disabled = done == total

    def _reference_html(self) -> str:
        codes = "".join(f"<tr><td><b>{c.id}</b></td><td>{html.escape(c.label)}</td><td>{html.escape(c.definition)}"
                        "</td></tr>" for c in self.rubric.codes)
        levels = "".join(f"<tr><td><b>{lvl.level}</b></td><td>{html.escape(lvl.label)}</td>"
                         f"<td>{html.escape(lvl.anchor)}</td></tr>" for lvl in self.rubric.empathy.levels)
        return (f"<table><caption>Behaviour codes</caption>{codes}</table>"
                f"<table><caption>{html.escape(self.rubric.empathy.title)}</caption>{levels}</table>")

    # -- display ----------------------------------------------------------------------------------------------
    def as_text(self) -> str:
        done, total = self.progress()
        return f"Key of {self.transcript.id}: {done} of {total} turns keyed ({self.path})."

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        display_with_keyboard_guard(self.widget, self.as_text(), f"<p>{html.escape(self.as_text())}</p>")
