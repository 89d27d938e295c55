"""Known findings: claim cases measured NOT to hold on a configuration, with the reason.

A case listed here runs as `xfail(strict=True)`: it must still fail (a verdict that
starts holding turns the run red, so this list cannot go stale silently), and its
reason is printed with the result. Entries record measurements, never thresholds moved
to make a claim pass. Keys: (claim, pair, method, benchmark).
"""
from __future__ import annotations

EXPECTED_FAILURES: dict[tuple[str, str, str, str], str] = {}


def expected_failure(case) -> str | None:
    return EXPECTED_FAILURES.get((case.claim, case.pair, case.method, case.benchmark))
