"""Threads for the chunked numpy work of the stages (numpy releases the GIL in its array loops).

Every user splits its work into chunks whose results do not depend on which chunk or thread computes them, and
puts them back in order, so no result depends on the thread count (tests compare 1 and 2 threads byte for byte)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

from seedsig.core.errors import SeedsigError

T = TypeVar("T")
R = TypeVar("R")


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
    are that many items) and of near-equal sizes, so that the threads finish together."""
    if n <= 0:
        return []
    threads = max(int(threads), 1)
    parts = -(-n // max(1, int(step)))
    parts = min(n, -(-parts // threads) * threads)
    size = -(-n // parts)
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]
