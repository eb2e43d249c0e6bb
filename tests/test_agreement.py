"""The agreement functions against scikit-learn, statsmodels, pingouin and krippendorff (test-only dependencies)."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from autograder.core.agreement import (
    adjacent_agreement,
    alpha_from_table,
    bootstrap_interval,
    cohen_kappa,
    contingency_table,
    fleiss_kappa,
    icc,
    interpret,
    kappa_from_table,
    krippendorff_alpha,
    percent_agreement,
)

SEEDS = range(25)
CODES = ["OQ", "CQ", "SR", "CR", "AF", "VA", "RS", "AD"]


def noisy_copy(rng: np.random.Generator, truth: np.ndarray, choices: list, p_same: float) -> np.ndarray:
    """A second rater who agrees with `truth` with probability p_same and otherwise picks at random."""
    other = rng.choice(choices, size=len(truth))
    return np.where(rng.random(len(truth)) < p_same, truth, other)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_matches_sklearn(seed: int, weights: str | None) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 200))
    a = rng.integers(1, 6, n)
    b = noisy_copy(rng, a, [1, 2, 3, 4, 5], rng.uniform(0.2, 0.9))
    ours = cohen_kappa(a.tolist(), b.tolist(), weights=weights, categories=[1, 2, 3, 4, 5])
    theirs = cohen_kappa_score(a, b, weights=weights, labels=[1, 2, 3, 4, 5])
    assert ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_nominal_kappa_on_codes_with_missing_turns_matches_sklearn_on_complete_pairs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(10, 150))
    a = rng.choice(CODES, n).astype(object)
    b = noisy_copy(rng, a, CODES, 0.7).astype(object)
    a[rng.random(n) < 0.1] = None
    b[rng.random(n) < 0.1] = float("nan")
    keep = [i for i in range(n) if a[i] is not None and isinstance(b[i], str)]
    ours = cohen_kappa(list(a), list(b))
    theirs = cohen_kappa_score([a[i] for i in keep], [b[i] for i in keep])
    assert ours == pytest.approx(theirs, abs=1e-12)
    assert percent_agreement(list(a), list(b)) == pytest.approx(np.mean([a[i] == b[i] for i in keep]))


def test_kappa_degenerate_cases_are_defined_or_loud() -> None:
    with pytest.raises(ValueError, match="undefined"):
        cohen_kappa(["SR"] * 6, ["SR"] * 6)  # sklearn gives NaN here
    assert math.isnan(cohen_kappa_score(["SR"] * 6, ["SR"] * 6))
    # One rater constant, the other not: defined (0), as in sklearn.
    assert cohen_kappa(["SR"] * 4, ["SR", "CR", "SR", "OQ"]) == pytest.approx(
        cohen_kappa_score(["SR"] * 4, ["SR", "CR", "SR", "OQ"]))
    with pytest.raises(ValueError, match="different numbers"):
        cohen_kappa([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="no unit"):
        cohen_kappa([None, 1], [2, None])
    with pytest.raises(ValueError, match="not among the categories"):
        cohen_kappa([1, 2, 7], [1, 2, 3], categories=[1, 2, 3])
    with pytest.raises(ValueError, match="weights"):
        cohen_kappa([1, 2], [1, 2], weights="cubic")  # type: ignore[arg-type]


def test_adjacent_agreement_counts_within_one_point() -> None:
    assert adjacent_agreement([1, 2, 3, 5], [1, 3, 5, 4]) == 0.75
    assert adjacent_agreement([1, None, 3], [2, 4, 1]) == 0.5
    assert percent_agreement([1, 2, 3, 5], [1, 3, 5, 5]) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    subjects, categories, raters = int(rng.integers(3, 60)), int(rng.integers(2, 8)), int(rng.integers(2, 12))
    probs = rng.dirichlet(np.ones(categories), size=subjects)
    counts = np.array([rng.multinomial(raters, p) for p in probs])
    assert fleiss_kappa(counts) == pytest.approx(sm_fleiss_kappa(counts, method="fleiss"), abs=1e-12)


def test_fleiss_kappa_degenerate_cases() -> None:
    with pytest.raises(ValueError, match="single category"):
        fleiss_kappa([[3, 0], [3, 0]])
    with pytest.raises(ValueError, match="same number of ratings"):
        fleiss_kappa([[3, 0], [1, 1]])
    with pytest.raises(ValueError, match="at least two ratings"):
        fleiss_kappa([[1, 0], [0, 1]])
    # Perfect agreement on two categories is defined: 1.
    assert fleiss_kappa([[4, 0], [0, 4], [4, 0]]) == pytest.approx(1.0)


def pingouin_icc(x: np.ndarray) -> pd.DataFrame:
    pingouin.options["round.column.CI95"] = None  # pingouin rounds the interval to 2 places by default
    n, k = x.shape
    long = pd.DataFrame({"target": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
                         "rating": x.ravel()}).dropna()
    return pingouin.intraclass_corr(long, targets="target", raters="rater", ratings="rating",
                                    nan_policy="omit").set_index("Type")


PINGOUIN_TYPE = {(1, "single"): "ICC(1,1)", (2, "single"): "ICC(A,1)", (3, "single"): "ICC(C,1)",
                 (1, "average"): "ICC(1,k)", (2, "average"): "ICC(A,k)", (3, "average"): "ICC(C,k)"}


@pytest.mark.parametrize("seed", SEEDS)
def test_icc_matches_pingouin_in_every_form(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    n, k = int(rng.integers(5, 40)), int(rng.integers(2, 7))
    truth = rng.normal(3, 1, n)[:, None]
    x = np.clip(np.round(truth + rng.normal(0, 0.8, (n, k)) + rng.normal(0, 0.3, k)), 1, 5)
    if seed % 3 == 0:  # missing ratings: both sides drop the incomplete targets
        x[rng.integers(0, n, 2), rng.integers(0, k, 2)] = np.nan
    table = pingouin_icc(x)
    for (model, unit), name in PINGOUIN_TYPE.items():
        ours = icc(x, model=model, unit=unit)
        row = table.loc[name]
        assert ours.value == pytest.approx(row["ICC"], abs=1e-9), name
        assert ours.f == pytest.approx(row["F"], rel=1e-9), name
        assert ours.p == pytest.approx(row["pval"], abs=1e-9), name
        assert ours.df2 == pytest.approx(row["df2"]), name
        assert ours.ci95 == pytest.approx(tuple(row["CI95"]), abs=1e-6), name


def test_icc_degenerate_cases() -> None:
    with pytest.raises(ValueError, match="every rating is the same"):
        icc([[3, 3], [3, 3], [3, 3]])
    with pytest.raises(ValueError, match="two raters"):
        icc([[1], [2]])
    with pytest.raises(ValueError, match="two fully rated targets"):
        icc([[1, 2], [np.nan, 3]])
    with pytest.raises(ValueError, match="model"):
        icc([[1, 2], [2, 3]], model=4)  # type: ignore[arg-type]
    # Perfect agreement with variance between targets is defined: 1.
    perfect = icc([[1, 1], [3, 3], [5, 5]], model=2)
    assert perfect.value == pytest.approx(1.0) and perfect.ci95 == (1.0, 1.0) and perfect.p == 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_alpha_matches_the_krippendorff_package(seed: int, level: str) -> None:
    rng = np.random.default_rng(400 + seed)
    raters, units = int(rng.integers(2, 9)), int(rng.integers(5, 80))
    truth = rng.integers(1, 6, units)
    data = np.array([noisy_copy(rng, truth, [1, 2, 3, 4, 5], rng.uniform(0.3, 0.9)) for _ in range(raters)],
                    dtype=float)
    data[rng.random(data.shape) < 0.2] = np.nan  # real cohorts have holes
    with_none = [[None if np.isnan(v) else int(v) for v in row] for row in data]
    theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(theirs, abs=1e-10)
    assert krippendorff_alpha(with_none, level) == pytest.approx(theirs, abs=1e-10)


def test_krippendorff_alpha_on_string_codes_and_degenerate_cases() -> None:
    a = ["SR", "CR", "OQ", None, "SR"]
    b = ["SR", "SR", "OQ", "AF", None]
    c = [None, "CR", "OQ", "AF", "SR"]
    numeric = {"SR": 1, "CR": 2, "OQ": 3, "AF": 4}
    as_numbers = np.array([[numeric.get(v, np.nan) for v in row] for row in (a, b, c)], dtype=float)
    assert krippendorff_alpha([a, b, c]) == pytest.approx(
        krippendorff.alpha(reliability_data=as_numbers, level_of_measurement="nominal"))
    with pytest.raises(ValueError, match="only one value"):
        krippendorff_alpha([[1, 1, None], [1, 1, 1]])
    with pytest.raises(ValueError, match="no unit has two"):
        krippendorff_alpha([[1, None], [None, 2]])
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 2], [1, 2]], level="cardinal")  # type: ignore[arg-type]


def test_interpretation_bands() -> None:
    assert [interpret(v) for v in (0.2, 0.45, 0.7, 0.9)] == ["poor", "fair", "good", "excellent"]
    assert interpret(0.85, "landis-koch") == "almost perfect"
    assert interpret(-0.1, "landis-koch") == "poor"
    assert interpret(0.7, "krippendorff") == "tentative"
    with pytest.raises(ValueError):
        interpret(float("nan"))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_two_rater_alpha_from_the_contingency_table_matches_the_krippendorff_package(seed: int, level: str) -> None:
    rng = np.random.default_rng(500 + seed)
    n = int(rng.integers(5, 120))
    a = rng.integers(1, 6, n)
    b = noisy_copy(rng, a, [1, 2, 3, 4, 5], rng.uniform(0.3, 0.9))
    scale = [1, 2, 3, 4, 5, 6, 7]  # levels nobody used change nothing
    table, cats = contingency_table(a.tolist(), b.tolist(), scale)
    assert cats == scale and table.sum() == n
    theirs = krippendorff.alpha(reliability_data=np.array([a, b], dtype=float), level_of_measurement=level)
    assert alpha_from_table(table, scale, level) == pytest.approx(theirs, abs=1e-10)
    assert alpha_from_table(table, scale, level) == pytest.approx(krippendorff_alpha([a, b], level), abs=1e-10)
    assert kappa_from_table(table, "quadratic") == pytest.approx(
        cohen_kappa_score(a, b, weights="quadratic", labels=scale), abs=1e-12)


def test_alpha_and_kappa_from_a_table_degenerate_cases() -> None:
    with pytest.raises(ValueError, match="only one value"):
        alpha_from_table([[3, 0], [0, 0]], ["SR", "CR"])
    with pytest.raises(ValueError, match="no unit"):
        alpha_from_table([[0, 0], [0, 0]], ["SR", "CR"])
    with pytest.raises(ValueError, match="2 x 2"):
        alpha_from_table([[1, 0], [0, 1]], ["SR", "CR", "OQ"])
    with pytest.raises(ValueError, match="undefined"):
        kappa_from_table([[4, 0], [0, 0]])


def test_bootstrap_interval_is_a_seeded_percentile_interval_over_units() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(1, 6, 60)
    b = noisy_copy(rng, a, [1, 2, 3, 4, 5], 0.6)
    levels = [1, 2, 3, 4, 5]

    def weighted(t: np.ndarray) -> float:
        return kappa_from_table(t, "quadratic")

    got = bootstrap_interval(a.tolist(), b.tolist(), weighted, categories=levels, resamples=500, seed=3)
    # The same draws by hand: resample the units, compute the statistic with the plain function, take percentiles.
    draws = np.random.default_rng(3).integers(0, 60, size=(500, 60))
    by_hand = [cohen_kappa_score(a[d], b[d], weights="quadratic", labels=levels) for d in draws]
    assert (got.low, got.high) == pytest.approx(tuple(np.quantile(by_hand, [0.025, 0.975])), abs=1e-12)
    assert got.low <= weighted(contingency_table(a.tolist(), b.tolist(), levels)[0]) <= got.high
    assert bootstrap_interval(a.tolist(), b.tolist(), weighted, categories=levels, resamples=500, seed=3) == got
    assert (got.resamples, got.seed, got.confidence, got.undefined) == (500, 3, 0.95, 0)
    with pytest.raises(ValueError, match="undefined"):
        bootstrap_interval(["SR"] * 5, ["SR"] * 5, kappa_from_table, resamples=50)
