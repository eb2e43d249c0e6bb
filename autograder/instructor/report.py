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
                review: pd.DataFrame | None = None, refused: pd.DataFrame | None = None) -> str:
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


def _review_section(review: pd.DataFrame | None) -> list[str]:
    """Cells whose executed test score differed from the answers as written (`attune grade --compare`)."""
    if review is None:
        return []
    head = f"<h2>Submissions flagged for review: executed and as-written scores differ ({len(review)})</h2>"
    if review.empty:
        return [head, "<p>None.</p>"]
    return [head, "<p class='flag'>The score of the answers as written was recorded. Look at these submissions in "
                  "formgrader: each flagged cell needs grading and carries a comment saying what differed.</p>",
            _table(review)]


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


def write_outputs(table: pd.DataFrame, out: Path, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                  totals: pd.DataFrame | None = None, profiles: Mapping[str, str] | None = None,
                  feedback: bool = True, notes: list[str] | None = None,
                  review: pd.DataFrame | None = None, refused: pd.DataFrame | None = None,
                  scale: Sequence[int] | None = None) -> dict[str, Path]:
    """Write the report, CSV exports and (optionally) per-trainee feedback pages into `out`. ``review`` lists
    the cells flagged by the cross-check of executed and static scores (autograder.instructor.cohort.review_flags);
    ``refused`` the submissions collect refused as impersonations (autograder.instructor.cohort.refused_submissions);
    ``scale`` the rubric's empathy levels (see :func:`analyse`)."""
    out.mkdir(parents=True, exist_ok=True)
    results = analyse(table, thresholds, scale)
    paths = {"report": out / "report.html", "trainees": out / "trainees.csv", "items": out / "items.csv",
             "confusion": out / "code-confusion.csv"}
    paths["report"].write_text(report_html(table, results, thresholds, profiles, notes, review, refused),
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
    if totals is None:  # from the table itself: the autograded points per trainee and assignment
        totals = (table.groupby(["student", "assignment"], observed=True)["credit"].sum()
                  .rename("score").reset_index())
    paths["totals"] = out / "totals.csv"
    totals.to_csv(paths["totals"], index=False)
    possible = table.groupby(["assignment", "student"], observed=True)["possible"].sum().groupby(
        level=0, observed=True).max().to_dict()
    paths["canvas"] = out / "canvas-gradebook.csv"
    canvas_gradebook(totals, possible).to_csv(paths["canvas"], index=False)
    if feedback:
        folder = out / "feedback"
        folder.mkdir(exist_ok=True)
        for student in table["student"].cat.categories:
            (folder / f"{student}.html").write_text(trainee_feedback_html(table, student), encoding="utf-8")
        paths["feedback"] = folder
    return paths


__all__ = ["analyse", "canvas_gradebook", "report_html", "trainee_feedback_html", "write_outputs"]
