"""Outcome: Cox models, Kaplan-Meier and cumulative-incidence curves, and the survival analysis plan."""
