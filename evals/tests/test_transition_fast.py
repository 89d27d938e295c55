"""The cached-chunk grid fit equals the straightforward masked-reduction fit it replaced,
on clean steps (tied centres), gradual rises, flat and falling curves, with bootstrap noise."""
import numpy as np
import pytest

from evals.analysis.synthetic import synthetic_curve
from evals.analysis.transition import fit_many, grid_cells, logistic_grid
from evals.claims.catalog import CLAIMS, judge_all, judge_case, plan_claims
from evals.claims.verdicts import Thresholds

pytestmark = pytest.mark.fast


def reference_fit(lam, y):
    """The fit as first written: one [B, G] pass with masked min/max for the tied c's."""
    cs, ws = logistic_grid(lam)
    cc, ww = (a.ravel() for a in np.meshgrid(cs, ws, indexing="ij"))
    with np.errstate(over="ignore"):
        s = 1.0 / (1.0 + np.exp(-(lam[None, :] - cc[:, None]) / ww[:, None]))
    s_c = s - s.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(s_c, axis=1)
    ok = norm > 1e-9
    q = np.where(ok[:, None], s_c / np.where(ok, norm, 1.0)[:, None], 0.0)
    yc = y - y.mean(axis=1, keepdims=True)
    z = yc @ q.T
    z2 = z * z
    best = z2.max(axis=1, keepdims=True)
    tied = z2 >= best - 1e-9 * np.maximum(best, 1e-12)
    c = (np.where(tied, cc, np.inf).min(axis=1) + np.where(tied, cc, -np.inf).max(axis=1)) / 2
    g = z2.argmax(axis=1)
    b = z[np.arange(len(y)), g] / norm[g]
    a = y.mean(axis=1) - b * s[g].mean(axis=1)
    return {"c": c, "w": ww[g], "lo": a, "hi": a + b, "sse": np.maximum((yc * yc).sum(axis=1) - best[:, 0], 0)}


GRID11 = np.round(np.arange(11) * 0.1, 1)
UNEVEN = np.array([0.0, 0.25, 0.5, 0.6, 0.7, 0.75, 1.0])


@pytest.mark.parametrize("lam", [GRID11, UNEVEN], ids=["grid11", "uneven"])
@pytest.mark.parametrize("lo, hi, c, w", [(0.2, 0.8, 0.45, 2e-3), (0.2, 0.8, 0.5, 0.1), (0.5, 0.52, 0.5, 1.0),
                                          (0.8, 0.3, 0.3, 0.05), (0.3, 0.6, 0.9, 0.2), (0.4, 0.4, 0.5, 0.1)])
def test_fast_fit_equals_reference(lam, lo, hi, c, w):
    rng = np.random.default_rng(0)
    y = lo + (hi - lo) / (1 + np.exp(-(lam - c) / w))
    reps = np.vstack([y[None, :], rng.binomial(60, np.clip(y, 0, 1), size=(300, len(lam))) / 60])
    got, want = fit_many(lam, reps), reference_fit(lam, reps)
    assert fit_many(lam, reps, chunk=64)["c"].tolist() == got["c"].tolist()  # chunking changes nothing
    for key in ("c", "w"):
        np.testing.assert_array_equal(got[key], want[key])
    for key in ("lo", "hi", "sse"):
        np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-12)


def test_grouped_judging_equals_judging_every_case_over_all_curves():
    """judge_all judges one (pair, benchmark) group at a time; the verdicts (and their order)
    equal judging every planned case against the whole list of curves."""
    lams = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    curves = [synthetic_curve(m, lams, [0.2, 0.2, 0.3, 0.7, 0.8, 0.8], [100 * (1 + x) for x in lams], pair=p,
                              benchmark=b, n_problems=30)
              for p in ("q", "a") for b in ("z", "b") for m in ("linear", "slerp", "ties(density=0.2)")]
    th = Thresholds()
    methods = ["linear", "slerp", "ties(density=0.2)"]
    flat = [judge_case(case, curves, th, n_boot=50, seed=0) for p in ("q", "a") for b in ("z", "b")
            for case in plan_claims([p], methods, [b])]
    order = {c: i for i, c in enumerate(CLAIMS)}
    flat.sort(key=lambda v: (order[v.claim], v.pair, v.benchmark))
    assert judge_all(curves, th, n_boot=50, seed=0, progress=False) == flat


def chunked_reference(lam, y, chunk=128):
    """The chunked fit as it stood before the tie search read `flatnonzero` (c43e548's
    best_cells, verbatim but for names): the same products in the same chunks, ties by two
    boolean argmaxes. Every output must match it bit for bit."""

    g = grid_cells(tuple(np.asarray(lam, dtype=float).tolist()))
    out = {k: np.empty(len(y)) for k in ("c", "w", "lo", "hi", "sse")}
    for start in range(0, len(y), chunk):
        yb = y[start:start + chunk]
        sl, rows = slice(start, start + len(yb)), np.arange(len(yb))
        yc = yb - yb.mean(axis=1, keepdims=True)
        z = yc @ g.qt
        np.abs(z, out=z)
        k = z.argmax(axis=1)
        best2 = z[rows, k] ** 2
        tied = z >= np.sqrt(np.maximum(best2 - 1e-9 * np.maximum(best2, 1e-12), 0.0))[:, None]
        first, last = tied.argmax(axis=1), len(g.cc) - 1 - tied[:, ::-1].argmax(axis=1)
        out["c"][sl] = (g.cc[first] + g.cc[last]) / 2.0
        out["w"][sl] = g.ww[k]
        b = np.einsum("bn,bn->b", yc, g.q[k]) / g.norm[k]
        a = yb.mean(axis=1) - b * g.s_mean[k]
        out["lo"][sl], out["hi"][sl] = a, a + b
        out["sse"][sl] = np.maximum((yc * yc).sum(axis=1) - best2, 0.0)
    return out


@pytest.mark.parametrize("lam", [GRID11, UNEVEN], ids=["grid11", "uneven"])
@pytest.mark.parametrize("shape", ["clean_step", "noisy_logistic", "flat", "nan_rows"])
def test_fit_equals_the_chunked_reference_bit_for_bit(lam, shape):
    """Clean steps (many tied cells per row, exact zero residuals), a noisy logistic, a flat
    curve (no signal: the best cell is noise) and rows holding NaN (a replicate that drew none
    of a point's problems): c, w, lo, hi and sse equal the reference exactly, so every centre
    and width CI and every verdict read from them does too."""
    rng = np.random.default_rng(7)
    n = len(lam)
    if shape == "clean_step":
        y = np.where(lam > 0.45, 0.8, 0.2)[None, :].repeat(40, axis=0)
        y[20:] = np.where(lam > rng.choice(lam[1:-1], size=(20, 1)), 0.7, 0.3)  # steps elsewhere
    elif shape == "noisy_logistic":
        y = rng.binomial(80, 0.2 + 0.5 / (1 + np.exp(-(lam - 0.6) / 0.08)), size=(1000, n)) / 80
    elif shape == "flat":
        y = rng.binomial(50, 0.4, size=(1000, n)) / 50
    else:
        y = rng.binomial(50, 0.5, size=(300, n)) / 50
        y[[3, 130, 299], 2] = np.nan
    got, want = fit_many(lam, y), chunked_reference(lam, y)
    for key in ("c", "w", "lo", "hi", "sse"):
        np.testing.assert_array_equal(got[key], want[key])
