"""Deliberate practice: one short item at a time, immediate feedback, items chosen by the learner's own history.

The history is the learner's practice database (course.practice_store), written at every answer, so a restarted
kernel or a reloaded page loses nothing; the scheduler (autograder.core.practice_scheduler) is a pure function of
that history. Keyboard first: Tab moves between controls, arrow keys choose within a group, Enter or Space presses
a button; after each step the focus moves to where the next key press is wanted.
"""

from __future__ import annotations

import hashlib
import html
from datetime import datetime
from pathlib import Path
from typing import Any

_CSS = """<style>
.attune-widget .widget-radio-box label {height: auto; min-height: var(--jp-widgets-inline-height);
  line-height: 1.4; white-space: normal; align-items: flex-start; margin: .2em 0}
.attune-widget .widget-radio-box input {margin-top: .25em}
.attune-widget .widget-html-content {line-height: 1.45}
.attune-practice-right {border-left: 4px solid #1a7f37; padding-left: .6em}
.attune-practice-wrong {border-left: 4px solid #a40e26; padding-left: .6em}
</style>"""
LENGTHS = (5, 10, 20, 40)


def _shown_errors(handler: Any) -> Any:
    """A button's handler whose errors show in the widget: ipywidgets would only log them where no learner looks,
    and the button would seem dead."""
    import functools

    @functools.wraps(handler)
    def wrapped(self: Any, *args: Any) -> None:
        try:
            handler(self, *args)
        except Exception as err:  # shown, not swallowed: the learner and whoever helps them can read it
            self._feedback.value = (f'<p role="alert">Something went wrong: {html.escape(type(err).__name__)}: '
                                    f"{html.escape(str(err))}. Your answers so far are saved.</p>")
            raise

    return wrapped


def _seed() -> int:
    """One seed per learner, stable across sessions: the scheduler's choices are reproducible for them."""
    from course.learner import learner_id

    return int(hashlib.sha256(learner_id().encode()).hexdigest()[:8], 16)


class _HistoryUser:
    """A widget that reads or writes the learner's practice history: the store is opened on first use."""

    _store: Any = None

    @property
    def store(self) -> Any:
        if self._store is None:
            from course.practice_store import PracticeStore

            self._store = PracticeStore()
        return self._store


class Practice(_HistoryUser):
    """A practice session in a notebook: choose its length, answer items one at a time, see why after each."""

    def __init__(self, *, store: Any = None, bank: Any = None, seed: int | None = None) -> None:
        from course.loading import ContentError
        from course.practice import load_bank

        self._problem = None
        try:
            self.bank = bank if bank is not None else load_bank()
        except ContentError as err:
            self.bank, self._problem = None, str(err)
        if self.bank is not None and not self.bank.items:
            self._problem = ("No practice items were found: practice needs the course's practice bank "
                             "(solutions/practice/ in the course folder), which holds the reference answers. Open "
                             "this notebook from the course folder (`attune practice`), or ask your instructor.")
        self._store = store
        self._seed = _seed() if seed is None else seed
        self._item_id: str | None = None
        self._done = self._planned = 0
        self._session: str | None = None
        self._build()

    # -- data --------------------------------------------------------------------------------------------------
    def _infos(self) -> list:
        return item_infos(self.bank)

    def history(self) -> list:
        from autograder.core.practice_scheduler import Attempt

        return [Attempt(r.item_id, r.main_given, bool(r.correct)) for r in self.store.history()]

    # -- view --------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        import ipywidgets as w

        self._intro = w.HTML(f"{_CSS}<h2>Practice session</h2>")
        self._length = w.Dropdown(options=[(f"{n} items", n) for n in LENGTHS], value=10,
                                  description="Session length", style={"description_width": "initial"})
        self._start = w.Button(description="Start practice", button_style="primary",
                               tooltip="Start a practice session of the chosen length")
        self._start.on_click(self._on_start)
        self._item = w.HTML()
        self._controls = w.VBox([])
        self._check = w.Button(description="Check my answer", button_style="primary",
                               tooltip="See whether your answer matches the reference, and why")
        self._check.on_click(self._on_check)
        self._next = w.Button(description="Next item", tooltip="Go on to the next item")
        self._next.on_click(self._on_next)
        self._feedback = w.HTML()
        self._status = w.HTML()
        for button in (self._check, self._next):
            button.layout.display = "none"
        setup = w.HBox([self._length, self._start])
        if self._problem:
            setup.layout.display = "none"
            self._status.value = f'<p role="alert">{html.escape(self._problem)}</p>'
        else:
            seen = len({a.item for a in self.history()})
            self._status.value = (f"<p>{len(self.bank.items)} practice items; you have answered {seen} of them so "
                                  "far. Choose a session length and start. Keys: Tab moves, arrow keys choose, "
                                  "Enter presses a button.</p>")
        self.widget = w.VBox([self._intro, setup, self._status, self._item, self._controls,
                              w.HBox([self._check, self._next]), self._feedback])

    @_shown_errors
    def _on_start(self, _button: Any) -> None:
        self._planned, self._done = int(self._length.value), 0
        self._session = self.store.start_session(self._planned, notebook="practice")
        self._show_next()

    def _show_next(self) -> None:
        from autograder.core.practice_scheduler import choose_next

        self._item_id = choose_next(self._infos(), self.history(), self._seed)
        item, kind = self.bank.items[self._item_id], self.bank.kind_of[self._item_id]
        self._status.value = (f'<p role="status">Item {self._done + 1} of {self._planned} '
                              f"<span>({html.escape(item.tier)})</span></p>")
        self._item.value = _item_html(item, kind)
        self._controls.children = self._answer_controls(item, kind)
        self._feedback.value = ""
        self._check.layout.display, self._next.layout.display = None, "none"
        self._check.disabled = False
        self._controls.children[0].focus()

    def _answer_controls(self, item: Any, kind: str) -> tuple:
        import ipywidgets as w

        from course.items import feelings_and_concerns, referral_terms
        from course.rubric import load_rubric

        def radio(label: str, options: list) -> Any:
            return w.RadioButtons(options=options, value=None, description=label,
                                  style={"description_width": "initial"}, layout=w.Layout(width="auto"))

        if kind == "code":
            rubric = load_rubric()
            return (radio("Code", [(f"{c.id}: {c.label}", c.id) for c in rubric.codes]),
                    radio("Empathy level", [(f"{lvl.level}: {lvl.label}", lvl.level) for lvl in rubric.empathy.levels]))
        if kind == "best-response":
            return (radio("Most helpful response", [(f"{k}) {v}", k) for k, v in item.responses.items()]),)
        if kind == "feeling-concern":
            vocab = feelings_and_concerns()
            pick = [("(choose)", None)]
            return (w.Dropdown(options=pick + [(t.label, t.id) for t in vocab.feelings], description="Main feeling",
                               style={"description_width": "initial"}),
                    w.Dropdown(options=pick + [(t.label, t.id) for t in vocab.concerns], description="Concern",
                               style={"description_width": "initial"}))
        return (radio("Your decision", [(f"{t.label}: {t.definition}", t.id) for t in referral_terms().decisions]),)

    def _answer(self, kind: str) -> dict:
        values = [c.value for c in self._controls.children]
        names = {"code": ("code", "empathy"), "best-response": ("best",), "feeling-concern": ("feeling", "concern"),
                 "refer": ("decision",)}[kind]
        return dict(zip(names, values, strict=True))

    @_shown_errors
    def _on_check(self, _button: Any) -> None:
        from course.practice import judge
        from course.practice_store import AttemptRecord

        if self._item_id is None:
            return
        item, kind = self.bank.items[self._item_id], self.bank.kind_of[self._item_id]
        answer = self._answer(kind)
        missing = [name for name, value in answer.items() if value is None]
        if missing:
            self._feedback.value = (f'<p role="alert">Choose {" and ".join(missing)} first, then press '
                                    "<b>Check my answer</b>.</p>")
            return
        judgement = judge(item, answer)
        # Written before the feedback shows: whatever happens to the kernel or the page next, the answer is kept.
        self.store.record(AttemptRecord.new(
            self._item_id, kind, answer, item.reference.model_dump(), judgement.correct,
            main_given=judgement.main_given, main_expected=judgement.main_expected, session_id=self._session or ""))
        self._done += 1
        for control in self._controls.children:
            control.disabled = True
        self._check.disabled, self._check.layout.display = True, "none"
        self._feedback.value = _feedback_html(item, kind, answer, judgement)
        self._next.description = "Next item" if self._done < self._planned else "Finish the session"
        self._next.layout.display = None
        self._next.focus()

    @_shown_errors
    def _on_next(self, _button: Any) -> None:
        if self._done < self._planned:
            self._show_next()
            return
        right = sum(1 for r in self.store.history() if r.session_id == self._session and r.correct)
        self._item.value = ""
        self._controls.children = ()
        self._next.layout.display = "none"
        self._feedback.value = ""
        self._status.value = (f'<p role="status">Session done: {right} of {self._planned} right. Run the progress '
                              "cell below to see how you are doing over time, or start another session.</p>")
        self._item_id = None
        self._start.focus()

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        display_with_keyboard_guard(self.widget, "Practice: one item at a time with feedback (run it in JupyterLab).")


def item_infos(bank: Any) -> list:
    """What the scheduler knows of each item of the bank."""
    from autograder.core.practice_scheduler import ItemInfo
    from course.practice import main_answer, skill_of

    return [ItemInfo(i, item.tier, bank.kind_of[i], main_answer(item), skill_of(item, bank.kind_of[i]))
            for i, item in bank.items.items()]


def _item_html(item: Any, kind: str) -> str:
    who = f"<p><em>{html.escape(item.who)}</em></p>"
    if kind == "refer":
        return f"{who}<p>{html.escape(item.vignette)}</p><p>What do you do?</p>"
    said = f"<p><b>Client:</b> {html.escape(item.client)}</p>"
    if kind == "code":
        return f"{who}{said}<p><b>Listener:</b> {html.escape(item.response)}</p><p>Code the listener's response.</p>"
    if kind == "best-response":
        return f"{who}{said}<p>Which response is most helpful?</p>"
    return f"{who}{said}<p>Name the main feeling and the concern under it.</p>"


def _feedback_html(item: Any, kind: str, answer: dict, judgement: Any) -> str:
    verdict = "Right." if judgement.correct else "Not quite."
    box = "attune-practice-right" if judgement.correct else "attune-practice-wrong"
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in judgement.lines)
    parts = [f'<div class="{box}" role="status"><p><b>{verdict}</b></p><ul>{lines}</ul>',
             f"<p><b>Why:</b> {html.escape(item.why)}</p>"]
    parts += _definitions(item, kind, answer)
    parts.append("</div>")
    if getattr(item, "sensitive", False):
        from course.resources import resources_html

        parts.append(resources_html())
    return "".join(parts)


def _definitions(item: Any, kind: str, answer: dict) -> list[str]:
    """The rubric's words that decide the item: the reference code's definition, the chosen code's if it differs,
    and the decision rule that tells the two apart."""
    if kind == "code":
        from course.rubric import load_rubric

        rubric = load_rubric()
        expected, given = item.reference.code, answer.get("code")
        shown = [f"<p><b>{html.escape(expected)} ({html.escape(rubric.code(expected).label)}):</b> "
                 f"{html.escape(rubric.code(expected).definition)}</p>"]
        if given and given != expected and given in rubric.code_ids:
            shown.append(f"<p><b>{html.escape(given)} ({html.escape(rubric.code(given).label)}):</b> "
                         f"{html.escape(rubric.code(given).definition)}</p>")
            rule = next((r for r in rubric.decision_rules if {expected, given} <= set(r.codes)), None)
            if rule is not None:
                shown.append(f"<p><b>Rule: {html.escape(rule.title)}.</b> {html.escape(rule.rule)}</p>")
        return shown
    if kind == "feeling-concern":
        from course.items import feelings_and_concerns

        vocab = feelings_and_concerns()
        terms = {t.id: t for t in (*vocab.feelings, *vocab.concerns)}
        ref = item.reference
        return [f"<p><b>{html.escape(terms[x].label)}:</b> {html.escape(terms[x].definition)}</p>"
                for x in (ref.feeling, ref.concern) if x in terms]
    if kind == "refer":
        from course.items import referral_terms

        term = next((t for t in referral_terms().decisions if t.id == item.reference.decision), None)
        return [f"<p><b>{html.escape(term.label)}:</b> {html.escape(term.definition)}</p>"] if term else []
    return [f"<p>The most helpful response was <b>{html.escape(item.reference.best)})</b> "
            f"{html.escape(item.responses[item.reference.best])}</p>"]


class PracticeProgress(_HistoryUser):
    """The learner's progress from their practice history: accuracy per code over time, their confusion matrix,
    items mastered per tier and streaks, with the numbers as text too; export the history or start over."""

    def __init__(self, *, store: Any = None, bank: Any = None) -> None:
        from course.loading import ContentError
        from course.practice import load_bank

        try:
            self.bank = bank if bank is not None else load_bank()
        except ContentError:
            self.bank = None
        self._store = store
        self._build()

    def _build(self) -> None:
        import ipywidgets as w

        self._view = w.HTML()
        self._export = w.Button(description="Export my history (CSV)", tooltip="Write your history to a CSV file")
        self._export.on_click(self._on_export)
        self._reset = w.Button(description="Reset my history…", tooltip="Start your practice history over")
        self._reset.on_click(self._on_reset)
        self._confirm = w.Button(description="Yes, start over (a copy is kept)", button_style="danger")
        self._confirm.on_click(self._on_confirm)
        self._confirm.layout.display = "none"
        self._message = w.HTML()
        buttons = [self._export, self._reset, self._confirm]
        if share_summary_enabled():
            self._share = w.Button(description="Save a summary for my instructor",
                                   tooltip="Write practice-summary.json here: counts only, nothing is sent")
            self._share.on_click(self._on_share)
            buttons.append(self._share)
        self.widget = w.VBox([self._view, w.HBox(buttons), self._message])
        self.refresh()

    def refresh(self) -> None:
        self._view.value = progress_html(self.bank, self.store.history())

    def _on_export(self, _button: Any) -> None:
        path = Path.cwd() / f"practice-history-{datetime.now().strftime('%Y%m%d-%H%M%S')}.csv"
        rows = self.store.export_csv(path)
        self._message.value = f'<p role="status">Wrote {rows} answer(s) to {html.escape(str(path))}.</p>'

    def _on_reset(self, _button: Any) -> None:
        self._confirm.layout.display = None
        self._message.value = ('<p role="alert">This empties your practice history (a copy of it is kept beside '
                               "it). Press the red button to go ahead.</p>")
        self._confirm.focus()

    def _on_confirm(self, _button: Any) -> None:
        archive = self.store.reset(archive=True)
        self._confirm.layout.display = "none"
        kept = f" A copy is at {html.escape(str(archive))}." if archive else ""
        self._message.value = f'<p role="status">Your practice history is empty now.{kept}</p>'
        self.refresh()

    def _on_share(self, _button: Any) -> None:
        import json

        path = Path.cwd() / "practice-summary.json"
        path.write_text(json.dumps(self.store.summary(), indent=1), encoding="utf-8")
        self._message.value = (f'<p role="status">Wrote {html.escape(str(path))}: counts only. Nothing was sent; '
                               "hand it in as your instructor asked.</p>")

    def _ipython_display_(self) -> None:
        from course.widgets.keyboard import display_with_keyboard_guard

        display_with_keyboard_guard(self.widget, "Your practice progress (run it in JupyterLab).",
                                    self._view.value)


def share_summary_enabled() -> bool:
    """Whether the course lets a trainee save a practice summary for the instructor (off unless the course's
    content/practice.yaml says ``share_summary: true``)."""
    from course.library import setting
    from course.loading import read_yaml

    path = setting("practice.yaml")
    return path.is_file() and read_yaml(path).get("share_summary") is True


def progress_html(bank: Any, history: list) -> str:
    """The progress view: plots as inline SVG with text alternatives, and the numbers in words."""
    from autograder.core.practice_scheduler import Attempt, learner_progress

    if not history:
        return "<h3>Your practice progress</h3><p>No answers yet: start a practice session above.</p>"
    infos = item_infos(bank) if bank is not None else []
    attempts = [Attempt(r.item_id, r.main_given, bool(r.correct)) for r in history]
    progress = learner_progress(infos, attempts)
    right = sum(a.correct for a in attempts)
    parts = ["<h3>Your practice progress</h3>",
             f"<p>{len(attempts)} answers, {right} right ({right / len(attempts):.0%}). Current streak "
             f"{progress.streak}, longest {progress.longest_streak}. Working at the {html.escape(progress.tier)} "
             "tier.</p>"]
    parts += _plots(history, progress)
    return "".join(parts)


def _plots(history: list, progress: Any) -> list[str]:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def svg(fig: Any, label: str) -> str:
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")
        plt.close(fig)
        body = buffer.getvalue()
        body = body[body.index("<svg"):]
        return f'<figure role="img" aria-label="{html.escape(label)}">{body}<figcaption>{html.escape(label)}' \
               "</figcaption></figure>"

    shown = []
    coded = [r for r in history if r.kind == "code"]
    if coded:
        fig, ax = plt.subplots(figsize=(6, 3))
        by_code: dict[str, list[int]] = {}
        for record in coded:
            by_code.setdefault(record.main_expected, []).append(int(bool(record.correct)))
        for code, marks in sorted(by_code.items(), key=lambda kv: -len(kv[1]))[:6]:
            running = [sum(marks[: i + 1]) / (i + 1) for i in range(len(marks))]
            ax.plot(range(1, len(marks) + 1), running, marker="o", label=code)
        ax.set_xlabel("attempts at items of this code")
        ax.set_ylabel("accuracy so far")
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize="small")
        words = "; ".join(f"{code} {sum(m)}/{len(m)}" for code, m in sorted(by_code.items()))
        shown.append(svg(fig, f"Accuracy per code over time. Right so far: {words}."))
    if progress.confusions:
        codes = sorted({c for pair in progress.confusions for c in pair})
        fig, ax = plt.subplots(figsize=(4, 4))
        grid = [[progress.confusions.get((e, g), 0) for g in codes] for e in codes]
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(codes)), codes)
        ax.set_yticks(range(len(codes)), codes)
        ax.set_xlabel("your code")
        ax.set_ylabel("reference code")
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                if n:
                    ax.text(j, i, str(n), ha="center", va="center")
        words = "; ".join(f"{e} coded as {g}: {n}" for (e, g), n in sorted(progress.confusions.items()))
        shown.append(svg(fig, f"Your confusion matrix (codes you mixed up): {words}."))
    fig, ax = plt.subplots(figsize=(4, 2.5))
    tiers = list(progress.tiers)
    ax.bar(tiers, [progress.tiers[t].mastered_items for t in tiers], color="#2f6f9f")
    ax.set_ylabel("items mastered")
    words = "; ".join(f"{t} {progress.tiers[t].mastered_items} of {progress.tiers[t].items}"
                      + (" (tier mastered)" if progress.tiers[t].mastered else "") for t in tiers)
    shown.append(svg(fig, f"Items mastered per tier: {words}."))
    return shown
