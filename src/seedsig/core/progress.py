"""Progress bars and the one-line summary of a rule.

Inside a Snakemake rule (:func:`seedsig.core.rules.run_rule` has set up logging) a progress bar is written to
the rule log (the stream of the log's file handler), never to the terminal or to an output; outside a rule
it goes to stderr when that is a terminal and is silent otherwise. ``mininterval`` keeps a log short: a bar
leaves a few ``\\r``-separated updates and its final ``100%`` line.

:func:`summarized` wraps a rule script's body: the terminal gets warnings, errors and ONE summary line (the
stage's last INFO message, which every stage writes with its numbers), the rule log gets everything.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

MININTERVAL = 5.0  # seconds between two updates of a bar in the log


def log_stream():
    """The stream of the rule log (a logging.FileHandler on the root logger), or None outside a rule."""
    for h in logging.getLogger().handlers:
        if isinstance(h, logging.FileHandler) and h.stream is not None:
            return h.stream
    return None


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it"):
    """A tqdm bar over ``iterable`` (or a manual one with ``total``), written to the rule log."""
    from tqdm import tqdm

    stream = log_stream()
    quiet = stream is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        file=stream if stream is not None else sys.stderr,
        disable=quiet,
        mininterval=MININTERVAL,
        ascii=True,
        ncols=100,
        leave=True,
    )


class Timer:
    """Seconds accumulated per named step: ``with timer("bootstrap"): ...``; ``timer.fmt("bootstrap")``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def get(self, name: str) -> float:
        return self.seconds.get(name, 0.0)

    def fmt(self, name: str | None = None) -> str:
        s = time.perf_counter() - self.start if name is None else self.get(name)
        return f"{s:.1f} s"


class _LastInfo(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.INFO:
            self.message = record.getMessage()


def summarized(main: Callable[[Any], None]) -> Callable[[Any], None]:
    """Wrap a rule script's ``main``: the terminal (stderr) handler of the rule keeps warnings and errors only,
    and the stage's last INFO message (its summary, with numbers) is printed as one line on stdout."""

    def wrapped(smk: Any) -> None:
        root = logging.getLogger()
        for h in root.handlers:
            if type(h) is logging.StreamHandler and getattr(h, "stream", None) in (sys.stderr, sys.__stderr__):
                h.setLevel(logging.WARNING)
        last = _LastInfo()
        logging.getLogger("seedsig").addHandler(last)
        try:
            main(smk)
        finally:
            logging.getLogger("seedsig").removeHandler(last)
        if last.message:
            print(f"seedsig: {last.message}", file=sys.stdout, flush=True)

    return wrapped
