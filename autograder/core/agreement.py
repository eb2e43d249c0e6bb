"""Agreement statistics over plain arrays: the pure core behind calibration and the cohort report.

Every function takes lists or numpy arrays and returns plain numbers. Missing values (None or NaN) are allowed
where the statistic has a defined way to handle them (pairs are dropped for two-rater statistics; Krippendorff's
alpha uses whatever is pairable). Degenerate input raises ValueError with the reason, so a report can say
"n/a: ..." instead of printing a NaN nobody notices.

Formulas: Cohen (1960, 1968), Fleiss (1971), Shrout & Fleiss (1979) with McGraw & Wong's CI for ICC(2,*),
Krippendorff (2011, "Computing Krippendorff's alpha-reliability").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal", "interval", "ratio"]

__all__ = [
    "BootstrapInterval",
    "ICCResult",
    "adjacent_agreement",
    "alpha_from_table",
    "bootstrap_interval",
    "cohen_kappa",
    "contingency_table",
    "fleiss_kappa",
    "icc",
    "interpret",
    "kappa_from_table",
    "krippendorff_alpha",
    "percent_agreement",
]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(isinstance(value, float | np.floating) and math.isnan(value))
    except TypeError:
        return False


def _pairs(rater_a: Sequence[Any], rater_b: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """The units both raters rated, in order; unequal lengths are an error, not a truncation."""
    a, b = list(rater_a), list(rater_b)
    if len(a) != len(b):
        raise ValueError(f"the two raters rated different numbers of units ({len(a)} and {len(b)})")
    kept = [(x, y) for x, y in zip(a, b, strict=True) if not (_is_missing(x) or _is_missing(y))]
    if not kept:
        raise ValueError("no unit was rated by both raters")
    return [x for x, _ in kept], [y for _, y in kept]


def percent_agreement(rater_a: Sequence[Any], rater_b: Sequence[Any]) -> float:
    """Share of units (rated by both) on which the two raters gave the same value."""
    a, b = _pairs(rater_a, rater_b)
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def adjacent_agreement(rater_a: Sequence[float], rater_b: Sequence[float], within: float = 1) -> float:
    """Share of units (rated by both) on which two ordinal ratings lie within `within` scale points."""
    a, b = _pairs(rater_a, rater_b)
    diff = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    return float(np.mean(diff <= within))


def cohen_kappa(
    rater_a: Sequence[Any],
    rater_b: Sequence[Any],
    weights: Weights = None,
    categories: Sequence[Any] | None = None,
) -> float:
    """Cohen's kappa for two raters; weighted (linear or quadratic) for ordinal scales.

    `categories` fixes the category order (needed for weights when labels are not sortable numbers) and the
    categories that count; a value outside it is an error. Units missing for either rater are left out.
    """
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    observed, _cats = contingency_table(rater_a, rater_b, categories)
    return _kappa_from_table(observed, weights)


def _indexed(rater_a: Sequence[Any], rater_b: Sequence[Any],
             categories: Sequence[Any] | None) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """The units both raters rated, as indices into the categories (given, or the sorted values used)."""
    a, b = _pairs(rater_a, rater_b)
    cats = list(categories) if categories is not None else sorted(set(a) | set(b))
    index = {c: i for i, c in enumerate(cats)}
    unknown = sorted({str(v) for v in a + b if v not in index})
    if unknown:
        raise ValueError(f"values not among the categories: {', '.join(unknown)}")
    return np.array([index[x] for x in a], dtype=int), np.array([index[y] for y in b], dtype=int), cats


def contingency_table(rater_a: Sequence[Any], rater_b: Sequence[Any],
                      categories: Sequence[Any] | None = None) -> tuple[np.ndarray, list[Any]]:
    """(table, categories): table[i][j] = units rater a put in category i and rater b in j (units rated by both)."""
    ia, ib, cats = _indexed(rater_a, rater_b, categories)
    k = len(cats)
    observed = np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(float)
    return observed, cats


def kappa_from_table(table: Sequence[Sequence[float]] | np.ndarray, weights: Weights = None) -> float:
    """Cohen's kappa from a two-rater contingency table whose rows and columns are the categories in scale order."""
    if weights not in (None, "linear", "quadratic"):
        raise ValueError(f"weights must be None, 'linear' or 'quadratic', not {weights!r}")
    observed = np.asarray(table, dtype=float)
    if observed.sum() == 0:
        raise ValueError("no unit was rated by both raters")
    return _kappa_from_table(observed, weights)


def alpha_from_table(table: Sequence[Sequence[float]] | np.ndarray, values: Sequence[Any],
                     level: Level = "nominal") -> float:
    """Krippendorff's alpha of two raters who both rated every unit counted in ``table`` (a contingency table over
    ``values``, in scale order; numbers for interval and ratio). Equal to :func:`krippendorff_alpha` on the same
    pairs: with two values per unit the coincidence matrix is the table plus its transpose."""
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ValueError(f"level must be nominal, ordinal, interval or ratio, not {level!r}")
    observed = np.asarray(table, dtype=float)
    if observed.shape != (len(values), len(values)):
        raise ValueError(f"the table is {observed.shape[0]} x {observed.shape[1]}, for {len(values)} values")
    coincidences = observed + observed.T
    marginals = coincidences.sum(axis=1)
    if marginals.sum() == 0:
        raise ValueError("no unit has two or more ratings, so nothing can be compared")
    if np.count_nonzero(marginals) < 2:
        raise ValueError("alpha is undefined: only one value occurs in the data, so there is no disagreement to expect")
    return _alpha_from_coincidences(coincidences, list(values), level)


def _alpha_from_coincidences(coincidences: np.ndarray, values: list[Any], level: Level) -> float:
    marginals = coincidences.sum(axis=1)
    total = marginals.sum()
    delta = _distance(values, marginals, level)
    observed = float((coincidences * delta).sum())
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (total - 1)
    return 1.0 - observed / expected


@dataclass(frozen=True)
class BootstrapInterval:
    """A percentile bootstrap interval over units: ``resamples`` draws of the units with replacement (``seed``);
    ``undefined`` of them gave no value (one category only, say) and are left out."""

    low: float
    high: float
    confidence: float
    resamples: int
    seed: int
    undefined: int


def bootstrap_interval(rater_a: Sequence[Any], rater_b: Sequence[Any], statistic: Callable[[np.ndarray], float],
                       *, categories: Sequence[Any] | None = None, resamples: int = 2000, seed: int = 0,
                       confidence: float = 0.95) -> BootstrapInterval:
    """A percentile bootstrap interval for a two-rater statistic computed from the contingency table (see
    :func:`contingency_table`; e.g. ``lambda t: kappa_from_table(t, "quadratic")``), resampling the units rated
    by both. Deterministic for a given ``seed``. A resample on which the statistic is undefined (it raises
    ValueError) is left out; if half or more are, the interval is undefined too (ValueError)."""
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence!r}")
    ia, ib, cats = _indexed(rater_a, rater_b, categories)
    n, k = len(ia), len(cats)
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    cells = ia[draws] * k + ib[draws] + (np.arange(resamples) * k * k)[:, None]
    tables = np.bincount(cells.ravel(), minlength=resamples * k * k).reshape(resamples, k, k).astype(float)
    values = []
    for t in tables:
        try:
            values.append(statistic(t))
        except ValueError:
            continue
    undefined = resamples - len(values)
    if not values or undefined * 2 >= resamples:
        raise ValueError(f"the interval is undefined: the statistic is undefined on {undefined} of {resamples} "
                         "resamples (too few units, or almost all in one category)")
    tail = (1 - confidence) / 2
    low, high = np.quantile(np.asarray(values), [tail, 1 - tail])
    return BootstrapInterval(float(low), float(high), confidence, resamples, seed, undefined)


def _disagreement_weights(k: int, weights: Weights) -> np.ndarray:
    i, j = np.indices((k, k))
    if weights is None:
        return (i != j).astype(float)
    if weights == "linear":
        return np.abs(i - j).astype(float)
    return ((i - j) ** 2).astype(float)


def _kappa_from_table(observed: np.ndarray, weights: Weights) -> float:
    n = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    w = _disagreement_weights(observed.shape[0], weights)
    expected_disagreement = float((w * expected).sum())
    if expected_disagreement == 0:
        raise ValueError(
            "kappa is undefined: both raters used one and the same category for every unit, so chance "
            "agreement is already perfect; report percent agreement instead"
        )
    return 1.0 - float((w * observed).sum()) / expected_disagreement


def fleiss_kappa(counts: Sequence[Sequence[int]] | np.ndarray) -> float:
    """Fleiss' kappa. counts[i][j] = how many raters put subject i in category j; every row sums to the same n."""
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] < 1 or table.shape[1] < 1:
        raise ValueError("counts must be a subjects x categories table")
    if (table < 0).any() or not np.allclose(table, np.round(table)):
        raise ValueError("counts must be whole numbers of raters, not negative")
    per_subject = table.sum(axis=1)
    if not np.all(per_subject == per_subject[0]):
        raise ValueError(
            "every subject needs the same number of ratings; found totals from "
            f"{int(per_subject.min())} to {int(per_subject.max())}"
        )
    n = per_subject[0]
    if n < 2:
        raise ValueError("Fleiss' kappa needs at least two ratings per subject")
    p_category = table.sum(axis=0) / table.sum()
    chance = float((p_category**2).sum())
    if chance == 1.0:
        raise ValueError("kappa is undefined: every rating fell into a single category")
    p_subject = ((table**2).sum(axis=1) - n) / (n * (n - 1))
    return (float(p_subject.mean()) - chance) / (1.0 - chance)


@dataclass(frozen=True)
class ICCResult:
    """One intraclass correlation with its 95% confidence interval and F test (Shrout & Fleiss form)."""

    form: str
    value: float
    ci95: tuple[float, float]
    f: float
    df1: float
    df2: float
    p: float
    n_targets: int
    n_raters: int


def icc(
    ratings: Sequence[Sequence[float]] | np.ndarray,
    model: Literal[1, 2, 3] = 2,
    unit: Literal["single", "average"] = "single",
) -> ICCResult:
    """Intraclass correlation ICC(model, 1) or ICC(model, k); ratings: targets x raters, complete rows only.

    model 1: each target rated by different raters (one-way random); 2: two-way random, absolute agreement;
    3: two-way mixed, consistency. Targets with a missing rating are left out (listwise), as is usual.
    """
    from scipy.stats import f as f_dist  # scipy only for the F distribution; kept off import of this module

    if model not in (1, 2, 3):
        raise ValueError(f"model must be 1, 2 or 3, not {model!r}")
    if unit not in ("single", "average"):
        raise ValueError(f"unit must be 'single' or 'average', not {unit!r}")
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2:
        raise ValueError("ratings must be a targets x raters table")
    x = x[~np.isnan(x).any(axis=1)]
    n, k = x.shape
    if k < 2:
        raise ValueError("ICC needs at least two raters")
    if n < 2:
        raise ValueError(f"ICC needs at least two fully rated targets, found {n}")
    if np.all(x == x.flat[0]):
        raise ValueError("ICC is undefined: every rating is the same value, so there is no variance to share")

    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    ms_within = (ss_cols + ss_error) / (n * (k - 1))
    alpha = 0.05

    if model == 1:
        df1, df2 = n - 1, n * (k - 1)
        f_value = _ratio(ms_rows, ms_within)
        value = (ms_rows - ms_within) / (ms_rows + (k - 1) * ms_within) if unit == "single" \
            else (ms_rows - ms_within) / ms_rows
    else:
        df1, df2 = n - 1, (n - 1) * (k - 1)
        f_value = _ratio(ms_rows, ms_error)
        if model == 2:
            value = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n) \
                if unit == "single" else (ms_rows - ms_error) / (ms_rows + (ms_cols - ms_error) / n)
        else:
            value = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error) if unit == "single" \
                else (ms_rows - ms_error) / ms_rows

    if model in (1, 3):
        f_low = f_value / f_dist.ppf(1 - alpha / 2, df1, df2)
        f_high = f_value * f_dist.ppf(1 - alpha / 2, df2, df1)
        if unit == "single":
            ci = ((f_low - 1) / (f_low + k - 1), (f_high - 1) / (f_high + k - 1))
        else:
            ci = (1 - 1 / f_low, 1 - 1 / f_high)
    else:
        single = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n)
        ci = _icc2_interval(single, ms_rows, ms_cols, ms_error, n, k, alpha)
        if unit == "average":
            ci = tuple(v * k / (1 + v * (k - 1)) for v in ci)  # Spearman-Brown step-up of both limits

    p = float(f_dist.sf(f_value, df1, df2))
    return ICCResult(
        form=f"ICC({model},{'1' if unit == 'single' else 'k'})",
        value=float(value),
        ci95=(float(ci[0]), float(ci[1])),
        f=float(f_value),
        df1=float(df1),
        df2=float(df2),
        p=p,
        n_targets=n,
        n_raters=k,
    )


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return math.inf
    return numerator / denominator


def _icc2_interval(
    single: float, ms_rows: float, ms_cols: float, ms_error: float, n: int, k: int, alpha: float
) -> tuple[float, float]:
    """McGraw & Wong's approximate interval for ICC(2,1), with Satterthwaite's degrees of freedom."""
    from scipy.stats import f as f_dist

    if ms_error == 0:
        return (single, single)
    f_cols = ms_cols / ms_error
    a = n * (1 + (k - 1) * single) - k * single
    dof = ((n - 1) * (k - 1) * (k * single * f_cols + a) ** 2) / ((n - 1) * k**2 * single**2 * f_cols**2 + a**2)
    f_upper = f_dist.ppf(1 - alpha / 2, n - 1, dof)
    f_lower = f_dist.ppf(1 - alpha / 2, dof, n - 1)
    spread = k * ms_cols + (k * n - k - n) * ms_error
    low = n * (ms_rows - f_upper * ms_error) / (f_upper * spread + n * ms_rows)
    high = n * (f_lower * ms_rows - ms_error) / (spread + n * f_lower * ms_rows)
    return (low, high)


def krippendorff_alpha(data: Sequence[Sequence[Any]] | np.ndarray, level: Level = "nominal") -> float:
    """Krippendorff's alpha; data: raters x units, missing values as None or NaN.

    Units with fewer than two values are not pairable and drop out, as the method prescribes.
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise ValueError(f"level must be nominal, ordinal, interval or ratio, not {level!r}")
    rows = [list(r) for r in data]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError("data must be a raters x units table with the same number of units for every rater")
    units = [[r[u] for r in rows if not _is_missing(r[u])] for u in range(len(rows[0]))]
    units = [vals for vals in units if len(vals) >= 2]
    if not units:
        raise ValueError("no unit has two or more ratings, so nothing can be compared")
    values = sorted({v for vals in units for v in vals})
    if len(values) < 2:
        raise ValueError("alpha is undefined: only one value occurs in the data, so there is no disagreement to expect")
    index = {v: i for i, v in enumerate(values)}
    m = len(values)
    coincidences = np.zeros((m, m))
    for vals in units:
        counts = np.bincount([index[v] for v in vals], minlength=m).astype(float)
        coincidences += (np.outer(counts, counts) - np.diag(counts)) / (len(vals) - 1)
    return _alpha_from_coincidences(coincidences, values, level)


def _distance(values: list[Any], marginals: np.ndarray, level: Level) -> np.ndarray:
    m = len(values)
    if level == "nominal":
        return 1.0 - np.eye(m)
    if level == "ordinal":
        # Squared distance in cumulative frequency between two ranks, halving the end categories.
        cum = np.concatenate([[0.0], np.cumsum(marginals)])
        i, j = np.indices((m, m))
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[hi + 1] - cum[lo] - (marginals[lo] + marginals[hi]) / 2
        return between**2
    v = np.asarray(values, dtype=float)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    total = v[:, None] + v[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = ((v[:, None] - v[None, :]) / total) ** 2
    return np.nan_to_num(d, nan=0.0)  # 0/0 only when both values are 0: no distance


# Interpretation bands from the literature (see ../shared/notes/coding-systems.md).
BANDS: dict[str, list[tuple[float, str]]] = {
    "cicchetti": [(0.40, "poor"), (0.60, "fair"), (0.75, "good"), (math.inf, "excellent")],
    "koo-li": [(0.50, "poor"), (0.75, "moderate"), (0.90, "good"), (math.inf, "excellent")],
    "landis-koch": [(0.0, "poor"), (0.21, "slight"), (0.41, "fair"), (0.61, "moderate"), (0.81, "substantial"),
                    (math.inf, "almost perfect")],
    "krippendorff": [(0.667, "unreliable"), (0.800, "tentative"), (math.inf, "reliable")],
}


def interpret(value: float, scale: str = "cicchetti") -> str:
    """The band a kappa, ICC or alpha falls in; Cicchetti (1994) by default."""
    if scale not in BANDS:
        raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(BANDS)}")
    if math.isnan(value):
        raise ValueError("cannot interpret NaN")
    for upper, label in BANDS[scale]:
        if value < upper:
            return label
    return BANDS[scale][-1][1]
