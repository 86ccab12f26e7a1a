"""The glue between a Snakemake rule and a stage function: logging, the one error message, provenance."""

from __future__ import annotations

import logging
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable

from seedsig.core.errors import SeedsigError
from seedsig.core.failure import record_error, recorded_user_error

log = logging.getLogger("seedsig")
# The exit status of a rule script stopped by a user error (bad input; SeedsigError) and of its retries, which stop
# at once with the recorded message; an unexpected error exits 1.
USER_ERROR_EXIT = 3


# -------------------------------------------------------------------------------------- snakemake glue
def run_rule(snakemake: Any, func: Callable[[Any], None]) -> None:
    """Run a rule body with its log; a user mistake exits 1 with one message, no traceback on screen.

    The rule log gets every message (and the traceback of an unexpected error); the terminal gets the one-line
    summaries during the run. The message of a failure is not printed here: it is recorded
    (:func:`seedsig.core.failure.record_error`) and the Snakefile's ``onerror`` handler prints it once, after
    Snakemake's rule-error block.
    """

    log_path = snakemake.log[0] if len(snakemake.log) else None
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setFormatter(logging.Formatter("seedsig: %(message)s"))
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="w")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        handlers.append(fh)
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    wildcards = dict(snakemake.wildcards.items()) if hasattr(snakemake.wildcards, "items") else {}

    def _to_log_only(level: int, msg: str, *args: Any) -> None:
        logging.getLogger().removeHandler(handlers[0])  # the terminal gets the message once, from onerror
        log.log(level, msg, *args)

    earlier = recorded_user_error(snakemake.rule, wildcards)
    if earlier is not None:  # a retry of a job that failed for bad input: the same message, nothing computed
        _to_log_only(logging.ERROR, "error in rule %s (an earlier attempt, not retried): %s", snakemake.rule, earlier)
        sys.exit(USER_ERROR_EXIT)
    try:
        func(snakemake)
    except SeedsigError as exc:
        _to_log_only(logging.ERROR, "error in rule %s: %s", snakemake.rule, exc)
        record_error(snakemake.rule, wildcards, str(exc))
        sys.exit(USER_ERROR_EXIT)
    except Exception:
        name = sys.exc_info()[1].__class__.__name__
        where = f"the traceback is in {log_path}" if log_path else "no rule log to hold the traceback"
        msg = f"unexpected error in rule {snakemake.rule} ({name}); {where}. Please report it."
        # one record through the log's own handler (a second writer would overwrite the start of the file)
        _to_log_only(logging.ERROR, "%s\n%s", msg, traceback.format_exc().rstrip())
        record_error(snakemake.rule, wildcards, msg, unexpected=True)
        sys.exit(1)
