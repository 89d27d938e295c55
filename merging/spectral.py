"""Spectral steps of LoRE and Twin's SVD mode: a tensor viewed as a matrix, singular-value
shrinkage (SVT), best low-rank truncation, and the same maps in bounded memory through the
Gram matrix summed over row slices (tall matrices) or column blocks (wide ones).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from merging.statistics import StatPass
from merging.steps import f32


def as_matrix(x: Tensor) -> Tensor:
    """View x as (rows, -1): a 1-D tensor of n entries becomes (n, 1), a scalar (1, 1)."""
    if x.dim() == 0:
        return x.reshape(1, 1)
    return x.reshape(x.shape[0], -1)


def svt(x: Tensor, mu: float) -> tuple[Tensor, int]:
    """Singular value thresholding: U diag(max(s - mu, 0)) V^T of as_matrix(x), and the rank kept."""
    m = as_matrix(x)  # (rows, cols)
    u, s, vh = torch.linalg.svd(m, full_matrices=False)  # u (rows, r), s (r,), vh (r, cols)
    shrunk = (s - mu).clamp_min(0)
    r = int((shrunk > 0).sum())
    return ((u[:, :r] * shrunk[:r]) @ vh[:r]).reshape(x.shape), r


def low_rank(x: Tensor, rank_frac: float) -> tuple[Tensor, int]:
    """Best rank-r approximation of as_matrix(x), r = ceil(rank_frac * min(rows, cols))."""
    m = as_matrix(x)
    full = min(m.shape)
    r = max(1, math.ceil(rank_frac * full))
    if r >= full:
        return x, full
    u, s, vh = torch.linalg.svd(m, full_matrices=False)
    return ((u[:, :r] * s[:r]) @ vh[:r]).reshape(x.shape), r


# -- low rank in bounded memory: through the Gram matrix, from row slices --------------------
# A tall matrix M (rows >= cols, e.g. an embedding: vocab x hidden) has M = U S V^T with V, S
# from the eigendecomposition of M^T M (cols x cols, summed over row slices in float64), and
# any spectral map U g(S) V^T = M V (g(S)/S) V^T = M P: one (cols x cols) matrix P, applied
# row slice by row slice. Smaller or wide tensors keep the exact SVD (their bits unchanged).
GRAM_MIN_ELEMS = 1 << 24  # 64 MiB in float32


def row_length(shape: tuple[int, ...]) -> int:
    """Columns of as_matrix for a tensor of `shape`."""
    return math.prod(shape[1:]) if len(shape) > 1 else 1


def uses_gram(shape: tuple[int, ...]) -> bool:
    numel = math.prod(shape)
    return numel > GRAM_MIN_ELEMS and numel // row_length(shape) >= row_length(shape)


def gram_pass(vector: Callable[[Tensor, Tensor, Tensor | None], Tensor],
              then: Callable[[Tensor, Tensor, dict], object] | None = None) -> StatPass:
    """One per-tensor pass: (singular values, right singular vectors, numel) of the matrix
    `vector(direct, think, base)` from its row slices, ascending (eigh of the Gram matrix).
    With `then`, the pass yields (then(s, v, params), numel) instead: what a method derives
    from the spectrum (a projector) is made once per tensor, not once per slice."""
    def collect(d, t, b, params, numel, start):
        m = vector(d, t, b).reshape(-1, row_length(start.shape)).double()  # (slice rows, cols)
        return {"gram": m.T @ m}

    def finish(sums, params, start):
        evals, vecs = torch.linalg.eigh(sums["gram"])
        s = evals.clamp_min(0).sqrt()
        return (s, vecs, start.numel) if then is None else (then(s, vecs, params), start.numel)

    return StatPass(collect, finish)


def rank_projector(s: Tensor, v: Tensor, rank: int) -> Tensor:
    """P with M P = M's best rank-`rank` approximation (s ascending, as eigh gives them)."""
    top = v[:, v.shape[1] - rank:]
    return (top @ top.T).float()


def uses_left_gram(shape: tuple[int, ...]) -> bool:
    """A large wide matrix (rows < cols, e.g. a 4B model's down_proj, 2560 x 9728): held whole,
    it is mapped through its left Gram matrix M M^T (rows x rows) rather than an SVD, whose
    float32 copies and workspace would hold several times the tensor."""
    numel = math.prod(shape)
    return numel > GRAM_MIN_ELEMS and numel // row_length(shape) < row_length(shape)


def left_spectral(x: Tensor, gain: Callable[[Tensor], Tensor]) -> tuple[Tensor, Tensor]:
    """(U diag(gain(s)) V^T of as_matrix(x) in x's shape, s): the map is Q as_matrix(x), Q =
    U diag(gain(s)/s) U^T, with U, s from M M^T summed in float64 over column blocks (bounded
    extra memory). `gain(s)` takes (and s is) the ascending singular values."""
    m = as_matrix(f32(x))  # (rows, cols), rows < cols
    gram = torch.zeros(m.shape[0], m.shape[0], dtype=torch.float64, device=m.device)
    step = max(1, (1 << 22) // m.shape[0])
    for c in range(0, m.shape[1], step):
        block = m[:, c:c + step].double()
        gram += block @ block.T
    evals, u = torch.linalg.eigh(gram)
    s = evals.clamp_min(0).sqrt()
    g = torch.where(s > 0, gain(s) / torch.where(s > 0, s, 1.0), 0.0)
    return (((u * g) @ u.T).float() @ m).reshape(x.shape), s


def times_rows(x: Tensor, p: Tensor) -> Tensor:
    """x (a flat slice of whole rows) times P, row by row, in x's shape."""
    return (f32(x).reshape(-1, p.shape[0]) @ p).reshape(x.shape)
