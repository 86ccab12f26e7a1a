"""One random-signature null (issue 15 item 2): one tie rule for "at least as extreme" (the correlations' null and the
Cox null count the same null values, and an NA statistic never gets a p), and one code path that draws and scores the
random signatures (seedsig.scoring.null) for the association and the outcome stages."""

import numpy as np
import pandas as pd
import pytest

from seedsig.association import correlation
from seedsig.association.correlation import correlation_table, null_p
from seedsig.core.stats import corr_rows, empirical_null_p, ranks, stable_seed
from seedsig.outcome import stage as outcome_stage
from seedsig.outcome.cox_many import random_null_p
from seedsig.outcome.stage import CoxRandomNull
from seedsig.scoring.methods import SCORING_METHODS, score
from seedsig.scoring.null import NULL_METHODS, random_gene_sets, random_null_scores
from seedsig.scoring.signatures import Signature


def test_ties_count_as_at_least_as_extreme_up_to_1e12():
    null = np.array([0.5 - 5e-13, -0.5, 0.4, np.nan, 0.2])
    assert empirical_null_p(0.5, null) == (2 + 1) / (4 + 1)  # the NaN is not part of B
    assert empirical_null_p(-0.5, null) == (2 + 1) / (4 + 1)  # two-sided
    assert empirical_null_p(0.5, [0.5 - 2e-12, 0.1]) == 1 / 3  # beyond the tolerance: not a tie
    assert empirical_null_p(3.0, [3.0 * (1 - 5e-13), 1.0]) == 2 / 3  # relative above 1
    assert np.isnan(empirical_null_p(np.nan, null)) and np.isnan(empirical_null_p(0.3, [np.nan]))


def test_correlation_and_cox_nulls_share_the_rule():
    rng = np.random.default_rng(7)
    target = rng.normal(size=30)
    scores = rng.normal(size=(200, 30))
    r_obs = float(np.corrcoef(scores[0], target)[0, 1])
    r_null = np.array([np.corrcoef(s, target)[0, 1] for s in scores[1:]])
    assert null_p(r_obs, scores[1:], target) == empirical_null_p(r_obs, r_null)
    assert random_null_p(0.7, r_null * 3) == empirical_null_p(0.7, r_null * 3)
    # an NA correlation (e.g. a constant score) has no random-null p; it was 1/(B + 1) before the one rule
    assert np.isnan(null_p(np.nan, scores[1:], target))


# ------------------------------------------------------------------------- one random-signature null (issue 15 item 2)
def _cohort(n=40, seed=3):
    rng = np.random.default_rng(seed)
    genes = [f"G{i:03d}" for i in range(200)]
    values = rng.uniform(2, 10, (200, 1)) + rng.normal(size=(200, n))
    expr = pd.DataFrame(values, index=genes, columns=[f"s{i:02d}" for i in range(n)])
    sigs = [
        Signature("F", ("G001", "G002", "G003", "G004"), (1, 1, -1, -1)),
        Signature("T", ("G010", "G011", "G012"), (1, 1, 1)),
    ]
    return expr, sigs


def test_both_stages_use_the_scoring_null():
    assert correlation.random_null_scores is random_null_scores
    assert outcome_stage.random_null_scores is random_null_scores


@pytest.mark.parametrize("method", ["zscore", "plage"])  # vectorized; scored as ordinary signatures
def test_association_and_outcome_nulls_are_the_scoring_null(method):
    expr, sigs = _cohort()
    scores = score(expr, sigs, method).scores
    B, seed = 25, 11
    nulls: dict = {}
    correlation_table(
        expr, {method: scores}, sigs, ["F"], ["T"], n_bootstrap=0, n_random=B, seed=seed, proliferation=False,
        null_out=nulls,
    )  # fmt: skip
    rand = random_null_scores(expr, sigs[0], method, B, stable_seed(seed, "random_null", method, "F"))
    target = scores["T"].to_numpy()
    # the same random scores (to the last bits: the stage holds them in another memory layout)
    np.testing.assert_allclose(nulls[(method, "F", "T", "spearman")], corr_rows(ranks(rand), ranks(target)), atol=1e-13)
    np.testing.assert_allclose(nulls[(method, "F", "T", "pearson")], corr_rows(rand, target), atol=1e-13)

    cox_null = CoxRandomNull(
        expr=expr, signatures={s.name: s for s in sigs}, scores={method: scores}, n_random=B, seed=seed,
        method_params={}, min_samples=10,
    )  # fmt: skip
    expected = random_null_scores(expr, sigs[0], method, B, stable_seed(seed, "survival", method, "F"), {})
    np.testing.assert_array_equal(cox_null.scores_of(method, "F"), expected)


@pytest.mark.parametrize("method", list(SCORING_METHODS))
def test_the_null_scores_every_method_and_draws_the_same_sets(method):
    expr, sigs = _cohort(n=20)
    B = 6
    rand = random_null_scores(expr, sigs[0], method, B, 5)
    assert rand.shape == (B, expr.shape[1]) and np.isfinite(rand).all()
    sets = random_gene_sets(expr, sigs[0], method, B, 5)
    one_by_one = score(expr, [Signature(f"r{i}", s, (1, 1, -1, -1)) for i, s in enumerate(sets)], method).scores
    np.testing.assert_allclose(rand, one_by_one.to_numpy().T, atol=1e-9)  # the vectorized path scores the same sets
    if method in NULL_METHODS:
        np.testing.assert_allclose(rand, random_null_scores(expr, sigs[0], method, B, 5, vectorized=False), atol=1e-9)
