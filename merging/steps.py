"""Small pure steps that the merge operators compose: task vector, weighted sum, magnitude
trim, DARE drop, sign election, disjoint mean, singular-value shrinkage, low-rank truncation,
and the per-tensor random generator.

Every step takes and returns float32 tensors on any device. Elementwise steps use single,
exactly rounded operations (+, -, *, /, where), with one exception: `lerp`, the weighted
average, is torch.lerp, one kernel that reads the parents in their stored dtype, computes in
float32 and rounds once into the output (4x faster than upcasting, two products, a sum and a
cast; it is what makes a merge cost little more than its I/O). Fused kernels may use FMA on
their vector path and not on their scalar tail, so an element could round differently
depending on how a tensor is sliced; merging/tests/test_operators.py checks that torch.lerp
is slice-invariant on the machine it runs on. Everything else avoids fused kernels, so a
merged tensor is bit-identical whether it is computed whole, in slices (the streaming
engine), or in place.
"""
from __future__ import annotations

import hashlib
import math

import torch
from torch import Tensor


def f32(x: Tensor) -> Tensor:
    return x if x.dtype == torch.float32 else x.float()


def task_vector(x: Tensor, base: Tensor) -> Tensor:
    """tau = x - base, in float32."""
    return f32(x) - f32(base)


def combine(a: Tensor, wa: float, b: Tensor, wb: float) -> Tensor:
    """wa * a + wb * b in float32; with (wa, wb) = (1, 0) or (0, 1) it returns a or b exactly."""
    out = f32(a) * wa
    out += f32(b) * wb
    return out


def apply_task_vectors(base: Tensor, tau_direct: Tensor, tau_think: Tensor, lam: float,
                       scale: float = 1.0) -> Tensor:
    """base + scale * ((1 - lam) * tau_D + lam * tau_T) in float32 (scale 1 skips the product,
    which would change nothing: x * 1 == x)."""
    tau = combine(tau_direct, 1.0 - lam, tau_think, lam)
    return f32(base) + (tau if scale == 1.0 else tau * scale)


def lerp(a: Tensor, b: Tensor, w: float) -> Tensor:
    """(1 - w) * a + w * b in float32 by torch.lerp: a + w * (b - a) for |w| < 0.5, else
    b - (1 - w) * (b - a). Exact at both ends (w = 0 gives a, w = 1 gives b, bit for bit)."""
    return torch.lerp(f32(a), f32(b), w)


FUSED_LERP_DTYPES = (torch.bfloat16, torch.float16, torch.float32)


def lerp_into(a: Tensor, b: Tensor, w: float, out: Tensor) -> None:
    """out <- lerp(a, b, w) rounded to out's dtype. When a, b and out share a dtype, one pass:
    torch computes reduced-precision lerp in float32 and rounds once, which equals
    `lerp(a, b, w).to(out.dtype)` bit for bit (merging/tests/test_operators.py checks it)."""
    if a.dtype == b.dtype == out.dtype and out.dtype in FUSED_LERP_DTYPES and a.shape == out.shape:
        torch.lerp(a, b, w, out=out)
    else:
        out.copy_(lerp(a, b, w).reshape(out.shape))


def shift(mid: Tensor, delta: Tensor, c: float) -> Tensor:
    """mid + c * delta (mid is returned exactly when c == 0)."""
    return mid + delta * c


def midpoint(a: Tensor, b: Tensor) -> Tensor:
    """(a + b) / 2; equals combine(a, 0.5, b, 0.5) bit for bit (halving is exact)."""
    return (f32(a) + f32(b)) * 0.5


def keep_top_magnitude(x: Tensor, fraction: float) -> Tensor:
    """Zero all but the largest round(fraction * numel) magnitudes of x.

    fraction >= 1 returns x unchanged. Entries tied with the threshold are all kept, so
    the result does not depend on element order.
    """
    n = x.numel()
    k = int(round(fraction * n))
    if fraction >= 1 or k >= n:
        return x
    if k <= 0:
        return torch.zeros_like(x)
    mag = x.abs()
    # the k-th largest magnitude = the (n - k + 1)-th smallest
    threshold = torch.kthvalue(mag.reshape(-1), n - k + 1).values
    return torch.where(mag >= threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))


def dare_drop(x: Tensor, p: float, gen: torch.Generator, rescale: str) -> Tensor:
    """Drop each entry with probability p, then rescale the survivors.

    rescale "inverse" divides by (1 - p) (unbiased: E[result] = x); "l1" scales the
    survivors so that the L1 norm of x is kept (mergekit's choice). The uniform draws are
    made on the CPU from `gen`, so the mask is the same on every device.
    """
    if p == 0:
        return x
    keep = (torch.rand(x.shape, generator=gen, dtype=torch.float32) >= p).to(x.device)
    kept = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
    if rescale == "inverse":
        return kept / (1.0 - p)
    if rescale == "l1":
        kept_l1 = abs_sum(kept)
        return kept * (abs_sum(x) / kept_l1) if kept_l1 > 0 else kept
    raise ValueError(f"unknown DARE rescale {rescale!r}; use 'inverse' or 'l1'")


def elect_sign(weighted_sum: Tensor) -> Tensor:
    """TIES sign election: +1 where the weighted sum is >= 0 (zero counts as +), else -1."""
    return torch.where(weighted_sum >= 0, 1.0, -1.0).to(weighted_sum)


def disjoint_mean(xs: tuple[Tensor, ...], ws: tuple[float, ...], elected: Tensor) -> Tensor:
    """TIES disjoint mean: sum(w * x * agree) / sum(w * agree), 0 where nobody agrees.

    An entry agrees when it is non-zero and its sign equals the elected sign; the divisor is
    the summed weight of the agreeing parents (mergekit's normalisation, not PEFT's count).
    """
    num = torch.zeros_like(elected)
    den = torch.zeros_like(elected)
    for x, w in zip(xs, ws):
        agree = ((x != 0) & (torch.sign(x) == elected)).to(elected)
        num += (x * w) * agree
        den += agree * w
    safe = torch.where(den != 0, den, 1.0)
    return torch.where(den != 0, num / safe, 0.0)


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


def abs_sum(x: Tensor) -> float:
    """sum |x| accumulated in float64."""
    return float(f32(x).abs().sum(dtype=torch.float64))


def sq_sum(x: Tensor) -> float:
    """sum x^2 accumulated in float64 (squares rounded in float32)."""
    x = f32(x)
    return float((x * x).sum(dtype=torch.float64))


def dot(a: Tensor, b: Tensor) -> float:
    """sum a*b accumulated in float64 (products rounded in float32)."""
    return float((f32(a) * f32(b)).sum(dtype=torch.float64))


def tensor_generator(seed: int, name: str) -> torch.Generator:
    """A CPU generator seeded from (seed, tensor name) by a stable hash (never Python's hash())."""
    digest = hashlib.blake2b(f"{int(seed)}\x00{name}".encode(), digest_size=8).digest()
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int.from_bytes(digest, "little") & ((1 << 63) - 1))
    return gen
