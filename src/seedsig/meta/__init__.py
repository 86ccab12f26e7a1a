"""Meta-analysis: pooling correlations and hazard ratios across cohorts."""
