"""Judging on several processes changes nothing: forked workers return results in input
order, pass errors on, and the verdicts (and the report's per-curve rows, made right after
each group from the same cached draws) equal judging everything in this process."""
import json
import os

import pytest

from evals.analysis.synthetic import synthetic_curve
from evals.analysis.workers import ordered_map
from evals.claims.catalog import judge_all
from evals.claims.verify import judge_and_report

pytestmark = pytest.mark.fast


def _square_and_pid(x):
    if x == "boom":
        raise ValueError("item boom: bad input")
    return x * x, os.getpid()


@pytest.mark.parametrize("workers, n", [(1, 20), (2, 20), (2, 3)])
def test_ordered_map_keeps_order_and_uses_workers(workers, n):
    out = list(ordered_map(_square_and_pid, range(n), workers))
    assert [v for v, _ in out] == [x * x for x in range(n)]
    pids = {p for _, p in out}
    forked = workers > 1 and n >= 8  # fewer than min_items (8) items run here
    assert (os.getpid() not in pids) == forked and len(pids) <= (workers if forked else 1)


def test_ordered_map_passes_errors_on_and_refuses_zero_workers():
    with pytest.raises(ValueError, match="item boom: bad input"):
        list(ordered_map(_square_and_pid, [1, 2, "boom"] + list(range(10)), 2))
    with pytest.raises(ValueError, match="workers must be >= 1"):
        list(ordered_map(_square_and_pid, [1], 0))


def _curves():
    lams = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    return [synthetic_curve(m, lams, [0.2, 0.25, 0.3, 0.7, 0.75, 0.8], [300, 800, 1200, 2000, 2500, 3000],
                            pair=p, benchmark=b, n_problems=30, seed=len(p + b + m))
            for p in ("a", "b", "c") for b in ("x", "y", "z") for m in ("linear", "ties(density=0.2)")]


def test_parallel_verdicts_and_report_equal_serial(tmp_path):
    curves = _curves()  # 9 (pair, benchmark) groups: enough to fork
    assert judge_all(curves, n_boot=60, progress=False, workers=2) == judge_all(curves, n_boot=60, progress=False)
    docs = []
    for workers in (1, 2):
        vs, out, _ = judge_and_report(curves, {"source": "t"}, report_dir=tmp_path / str(workers), run_id="r",
                                      n_boot=60, plots=False, workers=workers)
        doc = json.loads((out / "claims.json").read_text())
        doc.pop("created")
        docs.append((vs, doc, (out / "claims.md").read_text().split("\n", 3)[3]))
    assert docs[0] == docs[1]
