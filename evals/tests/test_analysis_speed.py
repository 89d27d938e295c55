"""The shortcuts behind a fast `spectrum analyze` change no number: the sorted-array
quantile equals np.quantile bit for bit, the cached binomial draws equal a fresh seeded
draw, the cached grid leaves the fit as it was, and the Pareto scores keep each column's
own spread."""
import zlib

import numpy as np
import pytest

from evals.analysis.bootstrap import binomial_draws, ci, quantile_sorted, resample, simultaneous_ci
from evals.analysis.pareto import dominance_all
from evals.analysis.points import Point
from evals.analysis.smoothness import average_ranks
from evals.analysis.synthetic import synthetic_curve
from evals.analysis.transition import fit_many, grid_cells, logistic_grid

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("n", [1, 2, 3, 40, 1000])
@pytest.mark.parametrize("kind", ["normal", "ties", "binomial"])
def test_quantile_sorted_equals_numpy(n, kind):
    rng = np.random.default_rng(n)
    for _ in range(50):
        x = {"normal": rng.normal(size=n), "ties": rng.integers(0, 4, size=n) / 7.0,
             "binomial": rng.binomial(60, 0.3, size=n) / 60}[kind]
        for q in (0.0, 0.025, 0.5, 0.975, 1.0, float(rng.random())):
            assert quantile_sorted(np.sort(x), q) == float(np.quantile(x, q))
        a = (1 - 0.95) / 2  # as ci computes it
        assert ci(x) == tuple(float(v) for v in np.quantile(x, [a, 1 - a]))


def test_ci_drops_nans_and_handles_empty():
    assert ci(np.array([np.nan, 1.0, 3.0]), 0.5) == (1.5, 2.5)  # quartiles of [1, 3]
    assert all(np.isnan(ci(np.array([np.nan]))))


@pytest.mark.parametrize("lam", [0.0, -0.0, 0.5])
def test_binomial_draws_are_the_seeded_draw_and_shared(lam):
    p = Point.aggregate("pr", "linear", lam, "b", accuracy=0.4, n=50)
    q = Point.aggregate("pr", "slerp", 0.5, "b", accuracy=0.7, n=80)
    key = zlib.crc32("|".join(["binomial", "pr", "b", "linear", repr(p.lam)]).encode("utf-8"))
    want = np.random.default_rng([3, key]).binomial(50, 0.4, size=200) / 50
    alone, both = resample([p], n_boot=200, seed=3), resample([q, p], n_boot=200, seed=3)
    np.testing.assert_array_equal(alone.acc[:, 0], want)
    np.testing.assert_array_equal(both.acc[:, 1], want)
    cached = binomial_draws("pr", "b", "linear", repr(p.lam), 50, 0.4, 200, 3)
    assert cached is binomial_draws("pr", "b", "linear", repr(p.lam), 50, 0.4, 200, 3)
    assert not cached.flags.writeable


def test_grid_cells_are_built_once_per_lam_vector_and_match_logistic_grid():
    lam = np.round(np.arange(11) * 0.1, 1)
    g = grid_cells(tuple(lam.tolist()))
    assert grid_cells(tuple(lam.tolist())) is g
    cs, ws = logistic_grid(lam)
    assert len(g.cc) == len(cs) * len(ws) and g.cc[len(ws)] == cs[1] and g.ww[1] == ws[1]  # c-major
    y = 0.2 + 0.5 / (1 + np.exp(-(lam - 0.43) / 0.05))
    f = fit_many(lam, y[None, :])
    assert abs(f["c"][0] - 0.43) <= 0.01 and abs(f["lo"][0] - 0.2) < 0.02 and abs(f["hi"][0] - 0.7) < 0.02


def test_dominance_scores_use_each_columns_own_spread():
    """score = min(d_acc / sd(d_acc reps), -d_tokens / sd(d_tokens reps)), one nanstd per
    (merge, parent) column, bit for bit."""
    lams = [0.0, 0.25, 0.5, 0.75, 1.0]
    curve = synthetic_curve("linear", lams, [0.3, 0.5, 0.45, 0.6, 0.7], [100, 150, 260, 300, 400], n_problems=40)
    pts = list(curve.series())
    rs = resample(pts, n_boot=200, seed=1)
    pairs = [(i, p) for i in (1, 2, 3) for p in (0, 4)]
    for (m, p), d in zip(pairs, dominance_all(rs, pairs)):
        da, dt = rs.acc[:, m] - rs.acc[:, p], rs.tokens[:, m] - rs.tokens[:, p]
        want = min(d.d_acc / np.nanstd(da), -d.d_tokens / np.nanstd(dt))
        assert d.score == float(want)


@pytest.mark.parametrize("kind", ["normal", "ties", "constant", "nan", "one_row", "long"])
def test_average_ranks_equal_scipy_rankdata(kind):
    from scipy.stats import rankdata

    rng = np.random.default_rng(len(kind))
    a = {"normal": rng.normal(size=(200, 11)), "ties": rng.integers(0, 4, size=(200, 11)) * 0.5,
         "constant": np.full((5, 11), 3.0), "one_row": rng.integers(0, 3, size=(1, 7)).astype(float),
         "nan": rng.integers(0, 4, size=(50, 11)).astype(float), "long": rng.integers(0, 9, size=(20, 80)) * 1.0}[kind]
    if kind == "nan":
        a[[3, 17], [2, 9]] = np.nan
    want = rankdata(a, axis=1)
    np.testing.assert_array_equal(average_ranks(a), want)  # NaN rows: NaN in both


def test_simultaneous_ci_uses_numpys_quantile():
    rng = np.random.default_rng(4)
    reps, hat = rng.normal(size=(300, 5)) * [1, 2, 0, 1, 3], np.array([0.1, 0.2, 0.0, -0.3, 0.5])
    lo, hi = simultaneous_ci(hat, reps)
    ok = [0, 1, 3, 4]
    se = np.nanstd(reps[:, ok], axis=0)
    c = float(np.quantile((np.abs(reps[:, ok] - hat[ok]) / se).max(axis=1), 0.95))
    np.testing.assert_array_equal(lo[ok], hat[ok] - c * se)
    np.testing.assert_array_equal(hi[ok], hat[ok] + c * se)
    assert lo[2] == hi[2] == 0.0  # no spread: zero width
