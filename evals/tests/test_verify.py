"""judged_curves: samples whose score comes later (meta graded False) are not analysed as zeros."""
from __future__ import annotations

from dataclasses import replace

import pytest

from evals.claims.verify import judged_curves
from evals.tests.records_factory import make_record

pytestmark = pytest.mark.fast


def _records(benchmark: str, graded: bool) -> list:
    out = []
    for method, lam in ((None, 0.0), (None, 1.0), ("linear", 0.5)):
        for p in range(4):
            r = make_record(f"q{p}", correct=(p % 2 == 0), model=f"{method}@{lam}", lam=lam,
                            fingerprint=f"{method}{lam}")
            out.append(replace(r, method=method, benchmark=benchmark,
                               meta={**r.meta, **({} if graded else {"graded": False})}))
    return out


@pytest.mark.parametrize("graded, expect", [(True, ["aime24", "creative_writing"]), (False, ["aime24"])])
def test_judged_later_benchmarks_are_left_out(graded, expect):
    curves = judged_curves(_records("aime24", True) + _records("creative_writing", graded))
    assert sorted(c.benchmark for c in curves) == expect
    aime = next(c for c in curves if c.benchmark == "aime24")
    assert aime.points[0].accuracy == pytest.approx(0.5)  # 2 of 4 problems right, as built
