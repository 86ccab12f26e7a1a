"""One tie rule for "at least as extreme" in every random-signature null (issue 15 item 2): the correlations' null
and the Cox null count the same null values, and an NA statistic never gets a p."""

import numpy as np

from seedsig.association.correlation import null_p
from seedsig.core.stats import empirical_null_p
from seedsig.outcome.cox_many import random_null_p


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
