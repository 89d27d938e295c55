"""Constructed curves with known answers, for tests, demos and the report's own checks.

`synthetic_point` builds a Point whose per-problem matrices realise a target accuracy,
mean token count and malformed rate. Every point of one (pair, benchmark, seed) reads
the SAME uniform draws u[p, s] (common random numbers): sample (p, s) is correct iff
u[p, s] < accuracy. So two points with equal targets are identical, a point with a
higher target is correct wherever a lower one is, and paired differences carry only
the noise of where the u's fall -- like a real sweep, where every merge sees the same
problems. `coupled=False` draws afresh per point instead (noisier, unpaired). Tokens
are target x (0.5 + v[p, s]) with shared v; malformed iff m[p, s] < rate.
"""
from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from evals.analysis.points import Curve, Point


def _draws(key_text: str, n_problems: int, k: int, seed: int) -> np.ndarray:
    key = zlib.crc32(key_text.encode("utf-8"))
    return np.random.default_rng([seed, key]).random((3, n_problems, k))


def synthetic_point(pair: str, method: str | None, lam: float, benchmark: str, *,
                    accuracy: float, tokens: float | None = None, malformed: float = 0.0,
                    n_problems: int = 300, k: int = 1, seed: int = 0,
                    coupled: bool = True) -> Point:
    """`coupled=False` gives this point its own draws (independent noise, as if every
    strength had been evaluated on fresh problems)."""
    key = f"synthetic|{pair}|{benchmark}" + ("" if coupled else f"|{method}|{lam!r}")
    u, v, m = _draws(key, n_problems, k, seed)
    ids = tuple(f"p{i:04d}" for i in range(n_problems))
    correct = (u < accuracy).astype(float)
    mal = (m < malformed).astype(float)
    tok = None if tokens is None else float(tokens) * (0.5 + v)
    return Point(pair, method, float(lam), benchmark, ids, correct=correct, tokens=tok,
                 truncated=np.zeros_like(correct), malformed=mal)


def synthetic_curve(method: str, lams: Sequence[float], accuracy: Sequence[float],
                    tokens: Sequence[float] | None = None, *, malformed: Sequence[float] | None = None,
                    direct: tuple[float, float | None] | None = None,
                    think: tuple[float, float | None] | None = None, pair: str = "synthetic",
                    benchmark: str = "bench", n_problems: int = 300, k: int = 1,
                    seed: int = 0, coupled: bool = True) -> Curve:
    """A method's curve; parents default to the method's own values at lam 0 and 1
    (pass (accuracy, tokens) for `direct`/`think` to set them apart)."""
    lams = [float(x) for x in lams]
    if len(accuracy) != len(lams) or (tokens is not None and len(tokens) != len(lams)):
        raise ValueError("synthetic_curve: lams, accuracy and tokens must have equal lengths")
    mal = list(malformed) if malformed is not None else [0.0] * len(lams)
    kw = {"n_problems": n_problems, "k": k, "seed": seed, "coupled": coupled}
    pts = tuple(synthetic_point(pair, method, x, benchmark, accuracy=a,
                                tokens=None if tokens is None else tokens[i], malformed=mal[i], **kw)
                for i, (x, a) in enumerate(zip(lams, accuracy)))

    def parent(spec, lam):
        if spec is None:
            if lam not in lams:
                return None
            i = lams.index(lam)
            spec = (accuracy[i], None if tokens is None else tokens[i])
        return synthetic_point(pair, None, lam, benchmark, accuracy=spec[0], tokens=spec[1], **kw)

    return Curve(pair, method, benchmark, pts, parent(direct, 0.0), parent(think, 1.0))
