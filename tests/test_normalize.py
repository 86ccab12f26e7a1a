"""Normalization agrees with edgeR (golden values from tests/golden/normalize/make_golden.R)."""

import numpy as np
import pandas as pd
import pytest

from seedsig.errors import SeedsigError
from seedsig.io import read_matrix
from seedsig.normalize import log_cpm, normalize_matrix, tmm_factors

from conftest import GOLDEN, shared_file


@pytest.fixture(scope="module")
def airway():
    return read_matrix(shared_file("airway_rnaseq_counts", "airway_counts.tsv.gz"))


def test_tmm_factors_equal_edger(airway):
    gold = pd.read_csv(GOLDEN / "normalize" / "airway_tmm_factors.tsv", sep="\t", index_col=0)
    f = tmm_factors(airway.to_numpy())
    assert list(airway.columns) == list(gold.index)
    np.testing.assert_allclose(f, gold["norm_factor"].to_numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(airway.sum(axis=0).to_numpy(), gold["lib_size"].to_numpy())


@pytest.mark.parametrize("method,golden", [("tmm_logcpm", "airway_tmm_logcpm.tsv"), ("logcpm", "airway_logcpm.tsv")])
def test_logcpm_equals_edger(airway, method, golden):
    gold = pd.read_csv(GOLDEN / "normalize" / golden, sep="\t", index_col=0)
    out, info = normalize_matrix(airway, method)
    assert info["method"] == method and info["prior_count"] == 2
    assert out.shape == airway.shape and list(out.index) == list(airway.index)
    np.testing.assert_allclose(out.loc[gold.index].to_numpy(), gold.to_numpy(), rtol=0, atol=1e-10)


def test_log_cpm_formula_by_hand():
    counts = np.array([[0, 10], [5, 30], [95, 160]], dtype=float)
    lib = counts.sum(0)  # 100, 200
    prior = 2 * lib / lib.mean()
    expect = np.log2((counts + prior) / (lib + 2 * prior) * 1e6)
    np.testing.assert_allclose(log_cpm(counts), expect, rtol=1e-15)


def test_none_passes_through():
    df = pd.DataFrame({"a": [1.5, 2.0], "b": [3.0, -1.0]}, index=["X", "Y"])
    out, info = normalize_matrix(df, "none")
    pd.testing.assert_frame_equal(out, df)
    assert info == {"method": "none"}


@pytest.mark.parametrize(
    "values,msg",
    [
        ([[1, -2], [3, 4]], "negative count"),
        ([[1, np.nan], [3, 4]], "missing value"),
        ([[1.5, 2.2], [3.1, 4.7]], "looks like log-scale"),
        ([[0, 2], [0, 4]], "zero library size"),
    ],
)
def test_bad_counts_are_clear_errors(values, msg):
    df = pd.DataFrame(values, index=["G1", "G2"], columns=["s1", "s2"], dtype=float)
    with pytest.raises(SeedsigError, match=msg):
        normalize_matrix(df, "tmm_logcpm", where="cohort 'x'")
