"""Cohort analytics over the tidy cohort table. Pure functions of DataFrames: no I/O.

The table has one row per trainee x assignment x item x field (see autograder.instructor.cohort). From it:

* each trainee's agreement with the reference: Cohen's kappa on behaviour codes, quadratic-weighted kappa on
  ordinal ratings (empathy levels and response ratings), each with its Cicchetti (1994) band;
* leniency or severity on ratings: the mean signed difference, given minus expected (positive = lenient);
* a confusion matrix of codes (reference x given);
* item difficulty (mean credit) and discrimination (corrected item-total correlation);
* items where even the strongest trainees disagree with the key (a reason to re-read the key);
* certification against thresholds the instructor sets.

Kappas are computed for all trainees at once from per-trainee contingency tables (numpy), using the same
formula as autograder.core.agreement.cohen_kappa; the tests check one against the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autograder.core.agreement import interpret

CODE_LABEL = "behaviour code"
RATING_LABELS = ("empathy level", "empathy rating")
SCALE_ATTR = "rating_scale"  # table.attrs key under which the cohort table may carry the rubric's levels


@dataclass(frozen=True)
class Thresholds:
    """What certification asks for. Defaults: 'good' agreement in Cicchetti's bands and 70% of the points."""

    code_kappa: float = 0.60
    rating_kappa: float = 0.60
    score: float = 0.70
    max_abs_leniency: float = 0.75
    min_items: int = 10


def _kappas(student_idx: np.ndarray, expected: np.ndarray, given: np.ndarray, n_students: int, k: int,
            weights: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Kappa per student from integer-coded pairs (given < 0 = not answered: counted as a miss category).

    Returns (kappa, n_pairs); kappa is NaN where it is undefined (no pairs, or no chance disagreement), which
    the report shows as 'n/a' with the reason, never as a number.
    """
    answered = given >= 0
    s, e, g = student_idx[answered], expected[answered], given[answered]
    tables = np.bincount((s * k + e) * k + g, minlength=n_students * k * k).reshape(n_students, k, k).astype(float)
    n = tables.sum(axis=(1, 2))
    i, j = np.indices((k, k))
    w = (i != j).astype(float) if weights is None else ((i - j) ** 2).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows, cols = tables.sum(axis=2), tables.sum(axis=1)
        expected_table = rows[:, :, None] * cols[:, None, :] / n[:, None, None]
        observed_d = (tables * w).sum(axis=(1, 2))
        expected_d = (expected_table * w).sum(axis=(1, 2))
        kappa = np.where(expected_d > 0, 1.0 - observed_d / expected_d, np.nan)
    return kappa, n


def _code_pairs(rows: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Reference and given codes as integer codes over one shared category list; unanswered = -1.

    Works on the categorical codes directly (no per-row string work), which matters at millions of rows."""
    expected = rows["expected"].astype("category")
    given = rows["given"].astype("category")
    categories = sorted((set(expected.cat.categories) | set(given.cat.categories)) - {"", "nan"})
    e = expected.cat.set_categories(categories).cat.codes.to_numpy().astype(np.int64)
    g = given.cat.set_categories(categories).cat.codes.to_numpy().astype(np.int64)  # not a category: -1
    return categories, e, g


def rating_scale(table: pd.DataFrame, scale: Sequence[int] | None = None) -> tuple[int, ...]:
    """The empathy scale the ratings of `table` are on: `scale` if given, else the table's
    ``attrs["rating_scale"]`` (the rubric's levels, where the cohort table carries them), else the consecutive
    levels from the lowest to the highest seen in the reference or in a well-formed answer.

    The last is a safe fallback, not a guess: on a scale 1..n, levels no rater used at either end change neither
    kappa nor its weights. ValueError if the scale has gaps or a reference rating lies outside it (a broken key
    must be loud).
    """
    chosen = scale if scale is not None else table.attrs.get(SCALE_ATTR)
    is_rating = table["label"].isin(RATING_LABELS).to_numpy()
    expected = table["expected_num"].to_numpy(dtype=float)[is_rating]
    if chosen is None:
        given = table["given_num"].to_numpy(dtype=float)[is_rating]
        well_formed = (table["problem"] == "").to_numpy()[is_rating] if "problem" in table else np.isfinite(given)
        seen = np.concatenate([expected, given[well_formed]])
        seen = seen[np.isfinite(seen)]
        return tuple(range(int(seen.min()), int(seen.max()) + 1)) if len(seen) else ()
    levels = tuple(int(v) for v in chosen)
    if not levels or levels != tuple(range(levels[0], levels[0] + len(levels))):
        raise ValueError(f"a rating scale must be consecutive whole levels such as 1..7; got {levels}")
    outside = sorted(set(expected[~np.isin(expected, levels)].tolist()))  # NaN and 2.5 are not on it either
    if outside:
        raise ValueError(f"reference ratings outside the scale {levels[0]}-{levels[-1]}: "
                         f"{', '.join(f'{v:g}' for v in outside)}")
    return levels


def _band(values: pd.Series) -> pd.Series:
    return values.map(lambda v: "n/a" if pd.isna(v) else interpret(float(v)))


def trainee_summary(table: pd.DataFrame, scale: Sequence[int] | None = None) -> pd.DataFrame:
    """One row per trainee: score, agreement on codes and on ratings (with bands), leniency, items answered.

    Ratings are weighted on `scale`, the rubric's empathy levels (see :func:`rating_scale` for the default); a
    given rating that is not a level of it counts as not answered, like any answer that cannot be scored."""
    students = table["student"].astype("category")
    names = students.cat.categories
    codes_of = students.cat.codes.to_numpy().astype(np.int64)  # int8 codes would overflow in the table index
    out = pd.DataFrame(index=pd.Index(names, name="student"))
    totals = table.groupby(codes_of, observed=True)[["credit", "possible"]].sum()
    out["points"] = totals["credit"].to_numpy()
    out["possible"] = totals["possible"].to_numpy()
    out["score"] = out["points"] / out["possible"]

    is_code = (table["label"] == CODE_LABEL).to_numpy()
    if is_code.any():
        categories, e, g = _code_pairs(table.loc[is_code])
        kappa, n = _kappas(codes_of[is_code], e, g, len(names), len(categories), None)
        out["code_kappa"], out["codes_answered"] = kappa, n.astype(int)
    else:
        out["code_kappa"], out["codes_answered"] = np.nan, 0

    is_rating = table["label"].isin(RATING_LABELS).to_numpy()
    if is_rating.any():
        levels = rating_scale(table, scale)
        exp_num = table.loc[is_rating, "expected_num"].to_numpy()
        giv_num = table.loc[is_rating, "given_num"].to_numpy()
        e = (exp_num - levels[0]).astype(np.int64)
        # Off the scale (a 9 on 1-7, a 2.5) would index another trainee's table: count it as not answered.
        on_scale = np.isin(giv_num, levels)
        g = np.where(on_scale, giv_num - levels[0], -1).astype(np.int64)
        kappa, n = _kappas(codes_of[is_rating], e, g, len(names), len(levels), "quadratic")
        out["rating_kappa"], out["ratings_answered"] = kappa, n.astype(int)
        diff = pd.Series(giv_num - exp_num)
        lean = diff.groupby(codes_of[is_rating]).mean()
        out["leniency"] = lean.reindex(range(len(names))).to_numpy()
    else:
        out["rating_kappa"], out["ratings_answered"], out["leniency"] = np.nan, 0, np.nan
    out["code_band"] = _band(out["code_kappa"])
    out["rating_band"] = _band(out["rating_kappa"])
    return out


DEFAULT_THRESHOLDS = Thresholds()


def certify(summary: pd.DataFrame, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """Add `certified` and, where not, the reasons in words, from the instructor's thresholds."""
    t = thresholds
    reasons = pd.Series([[] for _ in range(len(summary))], index=summary.index, dtype=object)

    def note(mask: pd.Series, text: str) -> None:
        for student in summary.index[mask.fillna(True).to_numpy()]:
            reasons[student].append(text)

    note(summary["codes_answered"] < t.min_items, f"fewer than {t.min_items} codes answered")
    note(~(summary["code_kappa"] >= t.code_kappa), f"code kappa below {t.code_kappa:.2f}")
    note(~(summary["rating_kappa"] >= t.rating_kappa), f"rating kappa below {t.rating_kappa:.2f}")
    note(~(summary["score"] >= t.score), f"score below {t.score:.0%}")
    note(~(summary["leniency"].abs() <= t.max_abs_leniency),
         f"ratings lean more than {t.max_abs_leniency:.2f} levels off the reference")
    result = summary.copy()
    result["certified"] = [not r for r in reasons]
    result["reasons"] = ["; ".join(r) for r in reasons]
    return result


def code_confusion(table: pd.DataFrame) -> pd.DataFrame:
    """Counts of (reference code, given code) over the cohort; unanswered turns under '(none)'."""
    rows = table[table["label"] == CODE_LABEL]
    categories, e, g = _code_pairs(rows)
    k = len(categories)
    counts = np.bincount(e * (k + 1) + np.where(g < 0, k, g), minlength=k * (k + 1)).reshape(k, k + 1)
    frame = pd.DataFrame(counts, index=pd.Index(categories, name="reference"),
                         columns=pd.Index([*categories, "(none)"], name="given"))
    frame = frame.loc[frame.sum(axis=1) > 0, frame.sum(axis=0) > 0]
    return frame


def item_statistics(table: pd.DataFrame, top_share: float = 0.27, flag_below: float = 0.5) -> pd.DataFrame:
    """Per item and field: difficulty (mean credit), discrimination (corrected item-total correlation), the
    mean credit among the strongest `top_share` of trainees, and a flag where even they mostly miss it."""
    key = ["assignment", "part", "item", "field"]
    grouped = table.groupby(key, observed=True, sort=False)
    column = grouped.ngroup().to_numpy()
    columns = pd.MultiIndex.from_frame(grouped.size().reset_index()[key])
    students = table["student"].astype("category").cat.codes.to_numpy().astype(np.int64)
    n_students, n_columns = int(students.max()) + 1, len(columns)
    # student x item matrix of credit (a missing row counts as 0 credit, as an unanswered item does)
    values = np.bincount(students * n_columns + column, weights=table["credit"].to_numpy(dtype=float),
                         minlength=n_students * n_columns).reshape(n_students, n_columns)
    totals = values.sum(axis=1)
    rest = totals[:, None] - values  # each item against the total of all the others
    vc = values - values.mean(axis=0)
    rc = rest - rest.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        discrimination = (vc * rc).sum(axis=0) / np.sqrt((vc**2).sum(axis=0) * (rc**2).sum(axis=0))
    n_top = max(1, round(len(totals) * top_share))
    top = np.argsort(-totals, kind="stable")[:n_top]
    stats = pd.DataFrame({
        "difficulty": values.mean(axis=0),
        "discrimination": discrimination,
        "top_group_credit": values[top].mean(axis=0),
    }, index=columns)
    stats["flag"] = np.where(stats["top_group_credit"] < flag_below, "check the key: strongest trainees disagree",
                             "")
    return stats.reset_index()
