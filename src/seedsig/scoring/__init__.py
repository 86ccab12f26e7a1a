"""Scoring: signatures, the scoring methods registry, the random-signature null and per-cell scores."""
