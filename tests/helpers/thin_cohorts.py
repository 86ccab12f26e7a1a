"""What a row below the sample floor looks like (shared by tests/unit/test_thin_cohorts.py and
tests/workflow/test_thin_cohorts_pipeline.py)."""

from seedsig.association import prerank as prerank

FLOOR_NOTE = "samples with both scores, fewer than associate.min_samples = 10: not tested"


NA_WHEN_UNTESTED = ["r", "p", "q", "ci_low", "ci_high", "r_without_shared", "r_partial", "p_random_null"]
