"""User-facing errors.

A :class:`SeedsigError` is a mistake in what the user gave (a file, a sheet row, a config key).
The CLI and the workflow scripts print its message alone, without a traceback, and exit non-zero.
Messages name the file, the row/column or key, and what to do.
"""


class SeedsigError(Exception):
    """An error in the user's input, reported as one clear message."""
