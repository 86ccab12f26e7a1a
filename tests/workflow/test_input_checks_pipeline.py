"""The input checks through the pipeline: a transposed matrix stops at ingest with the one message (the checks
themselves: tests/unit/test_input_checks.py)."""

import pandas as pd
import pytest
from conftest import expect_failure, new_workdir, write_cohort

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------------------- end to end (slow)
def test_pipeline_transposed_matrix_stops_at_ingest(tmp_path):
    wd = new_workdir(tmp_path)

    def transpose(p):
        pd.read_csv(p, sep="\t", index_col=0).T.rename_axis("sample").to_csv(p, sep="\t")

    files = write_cohort(wd, counts_edit=transpose)
    out = expect_failure(
        wd, files, "looks transposed", "orientation: samples_x_genes", str(files["counts"]), "cohort 'tiny'"
    )
    assert "zero library size" not in out
