"""How many threads a step uses, and running chunks of work on them.

Every multithreaded step takes ``threads`` (a rule's ``threads:``, the CLI's ``--threads``, the API's ``threads=``):
``None`` or 0 means every core this process may run on. Work is cut into chunks whose boundaries do not depend on
the thread count, each chunk computes the same numbers whichever thread runs it, and the results are put together in
chunk order: results never depend on the thread count. The chunks run on a thread pool; the numpy calls inside them
(sorting, arithmetic) release the GIL."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from seedsig.core.errors import SeedsigError

T = TypeVar("T")
R = TypeVar("R")

_DEFAULT_THREADS: list[int] = []  # set by default_threads(): the threads of the running step (innermost last)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. under a batch scheduler), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(threads: int | None) -> int:
    """The number of threads to use: ``threads`` (at least 1); for None or 0 the running step's threads
    (:func:`default_threads`), else every available core."""
    if threads is None or int(threads) <= 0:
        return _DEFAULT_THREADS[-1] if _DEFAULT_THREADS else available_cores()
    return int(threads)


@contextmanager
def default_threads(threads: int | None) -> Iterator[int]:
    """Within the block, ``threads=None`` means ``threads`` (a step's readers and kernels deep down use the rule's
    threads without passing them through every call); yields the resolved count."""
    n = resolve_threads(threads)
    _DEFAULT_THREADS.append(n)
    try:
        yield n
    finally:
        _DEFAULT_THREADS.pop()


def chunk_bounds(n: int, step: int) -> list[tuple[int, int]]:
    """[(start, stop), ...] covering range(n) in chunks of ``step`` (at least 1); a last chunk of one item is joined
    to the one before it, so that no chunk holds a single item unless ``n`` is 1 (numpy sums a single column
    pairwise but several columns sequentially: a one-sample chunk would round differently)."""
    step = max(1, int(step))
    bounds = [(a, min(a + step, n)) for a in range(0, n, step)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n)]
    return bounds


def map_chunks(func: Callable[[int, int], T], bounds: Sequence[tuple[int, int]], threads: int | None) -> list[T]:
    """``[func(a, b) for a, b in bounds]``, run on ``threads`` threads (:func:`resolve_threads`), in chunk order."""
    return thread_map(lambda ab: func(*ab), bounds, resolve_threads(threads))


def check_threads(threads: object) -> int:
    """``threads`` as a whole number >= 1 (a rule's ``threads``, a library keyword)."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SeedsigError(f"threads must be a whole number >= 1, not {threads!r}.")
    return threads


def thread_map(fn: Callable[[T], R], items: Iterable[T], threads: int = 1) -> list[R]:
    """``[fn(x) for x in items]``, with up to ``threads`` threads; results in the order of ``items``."""
    items = list(items)
    if check_threads(threads) == 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(fn, items))


def split(n: int, step: int, threads: int = 1) -> list[slice]:
    """Consecutive slices of ``range(n)`` of at most ``step`` items, as many as a multiple of ``threads`` (when there
    are that many items) and of near-equal sizes, so that the threads finish together (for work whose results do not
    depend on the chunking)."""
    if n <= 0:
        return []
    threads = max(int(threads), 1)
    parts = -(-n // max(1, int(step)))
    parts = min(n, -(-parts // threads) * threads)
    size = -(-n // parts)
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]
