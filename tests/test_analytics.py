"""Cohort analytics: the vectorised per-trainee statistics agree with the plain agreement functions, and the
profiles of simulated coders are recovered."""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd
import pytest

from autograder.core.agreement import cohen_kappa
from autograder.core.scoring import coding_rules, score_items
from autograder.core.simulate import PROFILES, cohort_profiles, simulate_answers
from autograder.instructor.analytics import Thresholds, certify, code_confusion, item_statistics, trainee_summary
from autograder.instructor.cohort import GradedPart, build_table, score_rows
from autograder.instructor.report import canvas_gradebook, report_html, trainee_feedback_html

CODES = ("OQ", "CQ", "SR", "CR", "AF", "VA", "RS", "AD", "AP", "GI", "CO", "SC", "EA", "SD", "NC")
RULES = coding_rules(CODES)


def reference(n_turns: int, seed: int) -> dict:
    rng = random.Random(seed)
    return {f"T{i}": {"code": rng.choice(CODES), "empathy": rng.randint(1, 5), "why": f"Reason {i}."}
            for i in range(1, n_turns + 1)}


def cohort(profiles: dict[str, str], ref: dict, seed: int = 3) -> pd.DataFrame:
    rng = random.Random(seed)
    part = GradedPart("ex99", "nb", "answers", "demo-part", "score_answers", 2.0 * len(ref), ref)
    rows = []
    for student, profile in profiles.items():
        answers = simulate_answers(ref, RULES, profile, rng)
        score = score_items(answers, ref, RULES, part.points)
        rows += score_rows(student, part, score, {"code": "exact", "empathy": "ordinal"})
    return build_table(rows)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    names = cohort_profiles(40)
    return cohort({f"t{i:02d}": p for i, p in enumerate(names)}, reference(60, 1))


def test_vectorised_kappas_equal_the_agreement_functions(table):
    summary = trainee_summary(table)
    for student, rows in table.groupby("student", observed=True):
        codes = rows[rows["field"] == "code"]
        answered = codes["given"].astype(str) != ""
        expected = codes.loc[answered, "expected"].astype(str).tolist()
        given = codes.loc[answered, "given"].astype(str).tolist()
        assert summary.loc[student, "code_kappa"] == pytest.approx(cohen_kappa(expected, given), abs=1e-9)
        levels = rows[(rows["field"] == "empathy") & rows["given_num"].notna()]
        weighted = cohen_kappa(levels["expected_num"].astype(int).tolist(), levels["given_num"].astype(int).tolist(),
                               weights="quadratic", categories=[1, 2, 3, 4, 5])
        assert summary.loc[student, "rating_kappa"] == pytest.approx(weighted, abs=1e-9)
        diff = (levels["given_num"] - levels["expected_num"]).mean()
        assert summary.loc[student, "leniency"] == pytest.approx(diff, abs=1e-6)


def test_simulated_profiles_are_recovered(table):
    summary = trainee_summary(table)
    profile = {f"t{i:02d}": p for i, p in enumerate(cohort_profiles(40))}
    by = summary.groupby(summary.index.map(profile))
    assert (summary.loc[[s for s, p in profile.items() if p == "lenient"], "leniency"] > 0.3).all()
    assert (summary.loc[[s for s, p in profile.items() if p == "severe"], "leniency"] < -0.3).all()
    assert by["code_kappa"].mean()["near-expert"] > by["code_kappa"].mean()["careless"] + 0.4
    confusers = table[table["student"].isin([s for s, p in profile.items() if p == "reflection-confuser"])]
    matrix = code_confusion(confusers)
    if "SR" in matrix.index and "CR" in matrix.columns:
        assert matrix.loc["SR", "CR"] > matrix.loc["SR"].get("SR", 0)


def test_confusion_counts_every_code_row(table):
    matrix = code_confusion(table)
    assert matrix.to_numpy().sum() == (table["field"] == "code").sum()


def test_item_discrimination_is_the_corrected_item_total_correlation(table):
    stats = item_statistics(table)
    wide = table.pivot_table(index="student", columns=["item", "field"], values="credit", observed=True)
    item = wide.columns[5]
    rest = wide.sum(axis=1) - wide[item]
    expected = np.corrcoef(wide[item], rest)[0, 1]
    row = stats[(stats["item"] == item[0]) & (stats["field"] == item[1])].iloc[0]
    assert row["discrimination"] == pytest.approx(expected, abs=1e-9)
    assert row["difficulty"] == pytest.approx(wide[item].mean())


def test_an_item_whose_key_is_wrong_is_flagged():
    ref = reference(30, 2)
    profiles = {f"e{i}": "near-expert" for i in range(12)}
    wrong = {**ref, "T7": {**ref["T7"], "code": "CO" if ref["T7"]["code"] != "CO" else "GI"}}  # a bad key
    part = GradedPart("ex99", "nb", "answers", "demo-part", "score_answers", 60.0, wrong)
    rng = random.Random(5)
    rows = []
    for student in profiles:  # experts answer from the true reference; the key says otherwise
        answers = simulate_answers(ref, RULES, "near-expert", rng)
        rows += score_rows(student, part, score_items(answers, wrong, RULES, 60.0),
                           {"code": "exact", "empathy": "ordinal"})
    stats = item_statistics(build_table(rows))
    flagged = stats[stats["flag"] != ""]
    assert ("T7", "code") in set(zip(flagged["item"], flagged["field"], strict=True))
    assert len(flagged) <= 3


def test_certification_gives_reasons(table):
    result = certify(trainee_summary(table), Thresholds(code_kappa=0.7, rating_kappa=0.7, score=0.7))
    assert result["certified"].any() and not result["certified"].all()
    for row in result[~result["certified"]].itertuples():
        assert row.reasons


def test_degenerate_kappa_is_n_a_not_a_number():
    ref = {"T1": {"code": "SR", "empathy": 3, "why": "x."}, "T2": {"code": "SR", "empathy": 3, "why": "y."}}
    part = GradedPart("ex99", "nb", "answers", "p", "s", 4.0, ref)
    answers = {"T1": {"code": "SR", "empathy": 3}, "T2": {"code": "SR", "empathy": 3}}
    rows = score_rows("solo", part, score_items(answers, ref, RULES, 4.0), {"code": "exact", "empathy": "ordinal"})
    summary = trainee_summary(build_table(rows))
    assert np.isnan(summary.loc["solo", "code_kappa"]) and summary.loc["solo", "code_band"] == "n/a"


def test_report_is_self_contained_and_feedback_shows_reasons(table):
    from autograder.instructor.report import analyse

    results = analyse(table)
    page = report_html(table, results, Thresholds())
    # Works offline: plots are inline SVG, and nothing is loaded from elsewhere (no src= or href= to a URL).
    assert "<svg" in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    feedback = trainee_feedback_html(table, "t00")
    assert "Reason 1." in feedback and "reference" in feedback
    totals = table.groupby(["student", "assignment"], observed=True)["credit"].sum().rename("score").reset_index()
    canvas = canvas_gradebook(totals, {"ex99": 120.0})
    assert list(canvas.columns[:5]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas.iloc[0]["Student"] == "Points Possible" and canvas.iloc[0]["Attune ex99"] == 120.0


def test_every_profile_is_in_a_cohort_of_five_or_more():
    assert set(cohort_profiles(5)) == set(PROFILES) and len(cohort_profiles(30)) == 30
