"""The cohort report (one self-contained HTML file, plots inline as SVG: works offline, no CDN), per-trainee
feedback pages with the reference and its reasons, and CSV exports (totals, items, a Canvas gradebook import).

Thin adapters: every number comes from autograder.instructor.analytics; this module only lays it out and writes files.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from autograder.core.attention import EXPORT_COLUMNS, GradersView
from autograder.instructor.analytics import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    certify,
    code_confusion,
    item_statistics,
    trainee_summary,
)

STYLE = """
body {font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; line-height: 1.45; color: #1a1a1a}
table {border-collapse: collapse; margin: .5em 0 1.5em 0; font-size: .9em}
th, td {border: 1px solid #ccc; padding: .25em .5em; text-align: left}
th {background: #f0f0f0}
td.num {text-align: right; font-variant-numeric: tabular-nums}
.flag {color: #8a1c00; font-weight: 600}
figure {margin: 1em 0}
figcaption {font-size: .9em; color: #444}
.ok {color: #1b6e20} .no {color: #8a1c00}
"""


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.find("<svg"):]


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _plots(summary: pd.DataFrame, confusion: pd.DataFrame, items: pd.DataFrame,
           profiles: Mapping[str, str] | None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, column, title in ((axes[0], "code_kappa", "Codes: Cohen's kappa"),
                              (axes[1], "rating_kappa", "Ratings: quadratic-weighted kappa")):
        values = summary[column].dropna()
        ax.hist(values, bins=20, range=(-0.2, 1.0), color="#3b6ea5")
        for cut in (0.40, 0.60, 0.75):
            ax.axvline(cut, color="#999", lw=0.8, ls="--")
        ax.set_title(title)
        ax.set_xlabel("agreement with the reference")
        ax.set_ylabel("trainees")
    figures.append(_figure(_svg(fig), "Agreement with the reference per trainee; dashed lines are Cicchetti's "
                                      "band limits (.40 fair, .60 good, .75 excellent)."))

    fig, ax = plt.subplots(figsize=(10, 3.2))
    lean = summary["leniency"].dropna().sort_values()
    if profiles:
        groups = pd.Series({s: profiles.get(s, "?") for s in lean.index})
        for name in sorted(groups.unique()):
            members = lean[groups == name]
            ax.scatter(members.to_numpy(), np.full(len(members), sorted(groups.unique()).index(name)), label=name)
        ax.set_yticks(range(len(groups.unique())), sorted(groups.unique()))
    else:
        ax.hist(lean, bins=30, color="#3b6ea5")
        ax.set_ylabel("trainees")
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_xlabel("mean signed difference on ratings (given - reference): > 0 lenient, < 0 severe")
    figures.append(_figure(_svg(fig), "Leniency and severity on empathy ratings"
                           + (" by simulated profile." if profiles else ".")))

    if not confusion.empty:
        fig, ax = plt.subplots(figsize=(7, 6))
        shares = confusion.div(confusion.sum(axis=1).replace(0, 1), axis=0)
        ax.imshow(shares.to_numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(shares.columns)), shares.columns, rotation=90)
        ax.set_yticks(range(len(shares.index)), shares.index)
        ax.set_xlabel("code given")
        ax.set_ylabel("reference code")
        figures.append(_figure(_svg(fig), "Confusion of codes: each row is a reference code, shaded by the share "
                                          "of answers given as each code. Off-diagonal cells show systematic mix-ups."))

    fig, ax = plt.subplots(figsize=(7, 4))
    flagged = items["flag"] != ""
    ax.scatter(items.loc[~flagged, "difficulty"], items.loc[~flagged, "discrimination"], s=8, color="#3b6ea5",
               label="item")
    ax.scatter(items.loc[flagged, "difficulty"], items.loc[flagged, "discrimination"], s=14, color="#c0392b",
               label="flagged: check the key")
    ax.set_xlabel("difficulty (mean credit: 1 = everyone right)")
    ax.set_ylabel("discrimination (corrected item-total r)")
    ax.legend(loc="lower left")
    figures.append(_figure(_svg(fig), "Items: low discrimination or flags mark items to re-read."))
    return figures


def _table(frame: pd.DataFrame, float_format: str = "{:.2f}") -> str:
    rows = []
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            if isinstance(value, float | np.floating):
                text = "n/a" if np.isnan(value) else float_format.format(value)
                cells.append(f'<td class="num">{text}</td>')
            elif isinstance(value, bool | np.bool_):
                cells.append(f'<td class="{"ok" if value else "no"}">{"yes" if value else "not yet"}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def analyse(table: pd.DataFrame, thresholds: Thresholds = DEFAULT_THRESHOLDS,
            scale: Sequence[int] | None = None) -> dict[str, pd.DataFrame]:
    """Every analysis the report and exports need, computed once. ``scale``: the rubric's empathy levels
    (default: as autograder.instructor.analytics.rating_scale finds them in the table)."""
    summary = certify(trainee_summary(table, scale), thresholds)
    return {"summary": summary, "confusion": code_confusion(table), "items": item_statistics(table)}


def report_html(table: pd.DataFrame, results: dict[str, pd.DataFrame], thresholds: Thresholds,
                profiles: Mapping[str, str] | None = None, notes: list[str] | None = None,
                review: pd.DataFrame | None = None, refused: pd.DataFrame | None = None,
                view: GradersView | None = None) -> str:
    """The cohort report. With ``view`` (autograder.orchestration.attention.course_view) it opens with what needs
    the grader's attention and the totals as nbgrader exports them."""
    summary, confusion, items = results["summary"], results["confusion"], results["items"]
    n_students = len(summary)
    assignments = ", ".join(sorted(map(str, table["assignment"].unique())))
    flagged = items[items["flag"] != ""]
    trainees = summary.reset_index()[["student", "score", "code_kappa", "code_band", "rating_kappa", "rating_band",
                                      "leniency", "certified", "reasons"]]
    if profiles:
        trainees.insert(1, "simulated profile", trainees["student"].map(profiles))
    hardest = items.sort_values("difficulty").head(25)
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Attune cohort report</title>"
        f"<style>{STYLE}</style></head><body><main>",  # one main landmark holds the page (axe: region)
        "<h1>Attune cohort report</h1>",
        *(_attention_section(view) + _totals_section(grader_totals(view, table)) if view is not None else []),
        f"<p>{n_students} trainees · assignments {html.escape(assignments)} · "
        f"{int(summary['certified'].sum())} meet the certification thresholds (codes kappa ≥ "
        f"{thresholds.code_kappa:.2f}, ratings weighted kappa ≥ {thresholds.rating_kappa:.2f}, score ≥ "
        f"{thresholds.score:.0%}, |leniency| ≤ {thresholds.max_abs_leniency:.2f}). Bands: Cicchetti (1994). "
        "These thresholds are the instructor's; the field has no normative cut-off.</p>",
        *(f"<p class='flag'>{html.escape(n)}</p>" for n in notes or []),
        *_review_section(review),
        *_refused_section(refused),
        *_plots(summary, confusion, items, profiles),
        "<h2>Trainees</h2>", _table(trainees),
        f"<h2>Items flagged: strongest trainees disagree with the key ({len(flagged)})</h2>",
        _table(flagged) if len(flagged) else "<p>None.</p>",
        "<h2>The 25 hardest items</h2>", _table(hardest),
        "<h2>Code confusion (counts)</h2>", _table(confusion.reset_index(), "{:.0f}"),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def _header(columns: Sequence[str]) -> str:
    return "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)


def _attention_section(view: GradersView) -> list[str]:
    """Every attention item, most serious first: what the grader must look at before the totals go out."""
    items = view.attention
    head = f'<section aria-labelledby="attention"><h2 id="attention">Needs your attention ({len(items)})</h2>'
    if not items:
        return [head, "<p>Nothing needs your attention.</p></section>"]
    rows = "".join(f"<tr><td>{html.escape(a.kind)}</td><td>{html.escape(a.student)}</td>"
                   f"<td>{html.escape(a.assignment)}</td><td>{html.escape(a.where)}</td>"
                   f"<td>{html.escape(a.detail)}</td></tr>" for a in items)
    return [head, "<p>Most serious first. The totals below and in totals.csv and canvas-gradebook.csv are the "
                  "gradebook's, as <code>nbgrader export</code> writes them: correct these before sending them.</p>",
            f"<table><caption>Needs your attention</caption><thead><tr>"
            f"{_header(['kind', 'trainee', 'assignment', 'where', 'what to do'])}</tr></thead>"
            f"<tbody>{rows}</tbody></table></section>"]


def _totals_section(totals: pd.DataFrame) -> list[str]:
    """Each trainee's recorded total per assignment beside the points of the answers as written."""
    def number(value: float) -> str:
        return "" if pd.isna(value) else f"{value:g}"

    rows = "".join(f"<tr><th scope=\"row\">{html.escape(str(r.student_id))}</th><td>{html.escape(str(r.assignment))}"
                   f"</td><td class=\"num\">{number(r.score)}</td><td class=\"num\">{number(r.max_score)}</td>"
                   f"<td class=\"num\">{number(r.as_written)}</td><td>{html.escape(str(r.attention))}</td></tr>"
                   for r in totals.itertuples(index=False))
    return ['<section aria-labelledby="totals"><h2 id="totals">Totals</h2>',
            "<p>The recorded total is what nbgrader export (and the Canvas file) carries: the gradebook's sum, after "
            "any manual scores, extra credit and late penalty, never below 0. Answers as written: the points of the "
            "answers the cohort table read, blank where there is no autograded notebook.</p>",
            f"<table><caption>Totals per trainee and assignment</caption><thead><tr>"
            f"{_header(['trainee', 'assignment', 'recorded total', 'maximum', 'answers as written', 'note'])}"
            f"</tr></thead><tbody>{rows}</tbody></table></section>"]


def grader_totals(view: GradersView, table: pd.DataFrame) -> pd.DataFrame:
    """totals.csv: nbgrader export's rows and columns, then ``as_written`` (the points of the answers as written,
    from the cohort table; blank where none) and ``attention`` (the kinds of attention, "; "-joined)."""
    frame = pd.DataFrame([{c: getattr(r, c) for c in EXPORT_COLUMNS} for r in view.totals],
                         columns=list(EXPORT_COLUMNS))
    written = (table.groupby(["student", "assignment"], observed=True)["credit"].sum().astype(float)
               if not table.empty else pd.Series(dtype=float))
    frame["as_written"] = [written.get((s, a), np.nan) for s, a in zip(frame["student_id"], frame["assignment"],
                                                                           strict=True)]
    frame["attention"] = [view.reasons(s, a) for s, a in zip(frame["student_id"], frame["assignment"], strict=True)]
    return frame


def _review_section(review: pd.DataFrame | None) -> list[str]:
    """Cells whose executed test score differed from the answers as written (`attune grade --compare`), open until
    a grader scores them in formgrader; notebooks a grader flagged there."""
    if review is None:
        return []
    resolved = review["resolved"].astype(bool) if "resolved" in review else pd.Series(False, index=review.index)
    head = (f"<h2>Flagged for review: {int((~resolved).sum())} open, {int(resolved.sum())} resolved by a "
            "grader's score</h2>")
    if review.empty:
        return [head, "<p>None.</p>"]
    shown = review.assign(status=["resolved (scored in formgrader)" if r else "open" for r in resolved])
    shown = shown.drop(columns=[c for c in ("resolved",) if c in shown]).sort_values("status", kind="stable")
    return [head, "<p class='flag'>For a rubric cell, the score of the answers as written was recorded. Open each "
                  "open one in formgrader: the flagged test cell needs a score and says below it what differed; "
                  "entering your score resolves it.</p>",
            _table(shown)]


def _refused_section(refused: pd.DataFrame | None) -> list[str]:
    """Submissions nbgrader collect refused: not the claimed trainee's own folder, or not only their own files
    (autograder.adapters.exchange; records from autograder.instructor.cohort.refused_submissions)."""
    if refused is None:
        return []
    head = f"<h2>Refused submissions (impersonation or tampering) ({len(refused)})</h2>"
    if refused.empty:
        return [head, "<p>None.</p>"]
    shown = refused.rename(columns={"refused_at": "refused at"})
    shown["kept"] = shown["kept"].fillna("none from inbound/")
    return [head, "<p class='flag'>nbgrader collect did not collect these (autograder.exchange): either submitted "
                  "in another trainee's name (the folder claims to be from <em>claimed</em> but belongs to the Unix "
                  "user <em>owner</em>), or changed by someone else after submitting (a file in it belongs to "
                  "another user, or is a link); <em>reason</em> says which. The claimed trainee's own submission "
                  "of the time in <em>kept</em> was collected instead. A copy of each refused folder is in the "
                  "course folder's refused/&lt;assignment&gt;/ (readable by the instructor only).</p>",
            _table(shown)]


def trainee_feedback_html(table: pd.DataFrame, student: str) -> str:
    """One trainee's answers beside the reference and its reason: for the debrief after the deadline."""
    mine = table[table["student"] == student]
    blocks = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Feedback for "
              f"{html.escape(student)}</title><style>{STYLE}</style></head><body><main><h1>Feedback for "
              f"{html.escape(student)}</h1>"]
    for (assignment, part), rows in mine.groupby(["assignment", "part"], observed=True, sort=False):
        earned, possible = rows["credit"].sum(), rows["possible"].sum()
        blocks.append(f"<h2>{html.escape(str(assignment))} · {html.escape(str(part))}: {earned:g} of "
                      f"{possible:g}</h2>")
        body = []
        for item, item_rows in rows.groupby("item", observed=True, sort=False):
            fields = "; ".join(f"{r.field}: you {html.escape(str(r.given) or '—')}, reference "
                               f"{html.escape(str(r.expected))} ({r.credit:g}/{r.possible:g})"
                               for r in item_rows.itertuples())
            why = html.escape(str(item_rows["why"].iloc[0]))
            body.append(f"<tr><td>{html.escape(str(item))}</td><td>{fields}</td><td>{why}</td></tr>")
        blocks.append("<table><thead><tr><th>item</th><th>your answer and the reference</th><th>why</th></tr>"
                      f"</thead><tbody>{''.join(body)}</tbody></table>")
    blocks.append("</main></body></html>")
    return "\n".join(blocks)


def canvas_gradebook(totals: pd.DataFrame, possible: Mapping[str, float]) -> pd.DataFrame:
    """A CSV Canvas imports: its fixed columns, then one column per assignment, and a Points Possible row.

    Canvas matches rows on SIS User ID (or SIS Login ID); nbgrader's student id goes in both.
    """
    wide = totals.pivot_table(index="student", columns="assignment", values="score", aggfunc="sum").fillna(0.0)
    frame = pd.DataFrame({"Student": wide.index, "ID": "", "SIS User ID": wide.index, "SIS Login ID": wide.index,
                          "Section": ""})
    for assignment in wide.columns:
        frame[f"Attune {assignment}"] = wide[assignment].to_numpy()
    points = {"Student": "Points Possible", "ID": "", "SIS User ID": "", "SIS Login ID": "", "Section": ""}
    points |= {f"Attune {a}": possible.get(a, 0.0) for a in wide.columns}
    return pd.concat([pd.DataFrame([points]), frame], ignore_index=True)


def write_outputs(table: pd.DataFrame, out: Path, thresholds: Thresholds = DEFAULT_THRESHOLDS, *,
                  view: GradersView, profiles: Mapping[str, str] | None = None,
                  feedback: bool = True, notes: list[str] | None = None,
                  review: pd.DataFrame | None = None, refused: pd.DataFrame | None = None,
                  scale: Sequence[int] | None = None) -> dict[str, Path]:
    """Write the report, CSV exports and (optionally) per-trainee feedback pages into `out`. ``view`` is the
    gradebook's totals and what needs attention (autograder.orchestration.attention.course_view): totals.csv and
    canvas-gradebook.csv carry nbgrader export's numbers, the one set of numbers that goes out. ``review`` lists
    the cells flagged by the cross-check of executed and static scores (autograder.instructor.cohort.review_flags);
    ``refused`` the submissions collect refused as impersonations (autograder.instructor.cohort.refused_submissions);
    ``scale`` the rubric's empathy levels (see :func:`analyse`)."""
    out.mkdir(parents=True, exist_ok=True)
    results = analyse(table, thresholds, scale)
    paths = {"report": out / "report.html", "trainees": out / "trainees.csv", "items": out / "items.csv",
             "confusion": out / "code-confusion.csv"}
    paths["report"].write_text(report_html(table, results, thresholds, profiles, notes, review, refused, view),
                               encoding="utf-8")
    if review is not None:
        paths["review"] = out / "flagged-for-review.csv"
        review.to_csv(paths["review"], index=False)
    if refused is not None:
        paths["refused"] = out / "refused-submissions.csv"
        refused.to_csv(paths["refused"], index=False)
    results["summary"].to_csv(paths["trainees"])
    results["items"].to_csv(paths["items"], index=False)
    results["confusion"].to_csv(paths["confusion"])
    paths["totals"] = out / "totals.csv"
    paths["canvas"] = out / "canvas-gradebook.csv"
    exported = grader_totals(view, table)
    exported.to_csv(paths["totals"], index=False)
    possible = {r.assignment: r.max_score for r in view.totals}
    canvas_gradebook(exported.rename(columns={"student_id": "student"}), possible).to_csv(paths["canvas"],
                                                                                         index=False)
    if feedback:
        folder = out / "feedback"
        folder.mkdir(exist_ok=True)
        for student in table["student"].cat.categories:
            (folder / f"{student}.html").write_text(trainee_feedback_html(table, student), encoding="utf-8")
        paths["feedback"] = folder
    return paths


__all__ = ["analyse", "canvas_gradebook", "grader_totals", "report_html", "trainee_feedback_html", "write_outputs"]
