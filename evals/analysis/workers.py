"""Map a function over work items in forked worker processes; results come back in order.

Judging runs one (pair, benchmark) group after another, and the groups are independent:
every bootstrap draw is seeded by its group and point alone (evals.analysis.bootstrap),
so a group's verdicts are the same whichever process judges it, and in whatever order.
`ordered_map(fn, items, workers)` runs `fn` on `workers` forked processes: they inherit
`fn` and the items (no pickling on the way in, no re-import: a fresh interpreter would
spend seconds importing before its first item) and send their results back pickled, in
input order. BLAS runs on one thread in each (bootstrap.one_blas_thread); Ctrl-C reaches
this process only, which stops the workers. Where 'fork' is not available, for one
worker, or for fewer than `min_items` items, everything runs here, in order.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from evals.analysis.bootstrap import one_blas_thread

T = TypeVar("T")
R = TypeVar("R")

_TASK: tuple[Callable, Sequence] | None = None  # set by ordered_map just before it forks
_LIMITS = []  # each worker's BLAS limit, held for its lifetime


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _start_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    _LIMITS.append(one_blas_thread())


def _run(i: int):
    fn, items = _TASK
    return fn(items[i])


def ordered_map(fn: Callable[[T], R], items: Iterable[T], workers: int = 1, *,
                min_items: int = 8) -> Iterator[R]:
    """fn(item) for each item, in order, on up to `workers` forked processes."""
    global _TASK
    items = list(items)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 or len(items) < max(min_items, 2) or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(fn, items)
        return
    _TASK = (fn, items)
    try:
        pool = multiprocessing.get_context("fork").Pool(min(workers, len(items)), initializer=_start_worker)
        with pool:  # leaving early (an error, Ctrl-C) terminates the workers
            yield from pool.imap(_run, range(len(items)))
            pool.close()
            pool.join()  # reaped, so their CPU time counts as this process's children's
    finally:
        _TASK = None
