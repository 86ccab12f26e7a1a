"""Test helpers too large for conftest.py, imported by the test modules that need them."""
