"""Small pure steps that the merge operators compose: task vector, weighted sum, magnitude
trim, DARE drop, sign election, disjoint mean and the per-tensor random generator
(singular-value shrinkage and low-rank truncation live in merging/spectral.py).

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
from collections.abc import Callable

import torch
from torch import Tensor

from merging.draws import PackedKeep, keep_mask
from merging.statistics import StatPass


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


def apply_task_vectors_into(base: Tensor, tau_direct: Tensor, tau_think: Tensor, lam: float, out: Tensor,
                            scale: float = 1.0) -> None:
    """out <- apply_task_vectors(...) rounded to out's dtype, bit for bit: the same operations
    in the same order (base + tau == tau + base exactly), with one temporary, and the final
    float32 sum rounded once into `out`."""
    tau = combine(tau_direct, 1.0 - lam, tau_think, lam)
    if scale != 1.0:
        tau.mul_(scale)
    torch.add(tau.reshape(out.shape), f32(base).reshape(out.shape), out=out)


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


def shift_midpoint_into(a: Tensor, b: Tensor, delta: Tensor, c: float, out: Tensor) -> None:
    """out <- shift(midpoint(a, b), delta, c) rounded to out's dtype, bit for bit (the same
    operations in the same order, in place: two float32 temporaries instead of four)."""
    mid = a.float() if a.dtype != torch.float32 else a.clone()
    mid += b  # computed in float32 (b promoted), as f32(a) + f32(b)
    mid *= 0.5
    mid += delta * c
    out.copy_(mid.reshape(out.shape))


def half_difference(direct: Tensor, think: Tensor) -> Tensor:
    """(T - D) / 2 in float32, in place on one copy (bit for bit (f32(T) - f32(D)) * 0.5)."""
    half = think.float() if think.dtype != torch.float32 else think.clone()
    half -= direct
    half *= 0.5
    return half


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


# -- exact top-k thresholds in bounded memory (radix select on float32 bit patterns) ---------
# |x| as float32 has its sign bit clear, so its bits read as an int32 are ordered like |x|.
# Pass 1 counts the high 16 bits (the bf16 part: 32,768 bins), which locates the bin of the
# k-th largest magnitude; pass 2 counts the low 16 bits of that bin's entries. The threshold
# found is torch.kthvalue's, exactly, from slices of any size and never a sort.
HIGH_BINS, LOW_BINS = 1 << 15, 1 << 16


def top_count(numel: int, fraction: float) -> int:
    """How many entries a top-`fraction` trim keeps: round(fraction * numel), clamped."""
    return min(numel, max(0, int(round(fraction * numel)))) if fraction < 1 else numel


def magnitude_bits(x: Tensor) -> Tensor:
    return f32(x).abs().reshape(-1).view(torch.int32)


def high_histogram(x: Tensor) -> Tensor:
    """Counts of |x| per high-16-bit bin (float64, exact to 2**53 entries)."""
    return torch.bincount(magnitude_bits(x) >> 16, minlength=HIGH_BINS).double()


def low_histogram(x: Tensor, high: int) -> Tensor:
    """Counts of the low 16 bits of the |x| whose high 16 bits are `high`."""
    # entries below the bin land in slot 0, above it in the last slot (no boolean indexing)
    key = (magnitude_bits(x) - ((high << 16) - 1)).clamp_(0, LOW_BINS + 1)
    return torch.bincount(key, minlength=LOW_BINS + 2)[1:LOW_BINS + 1].double()


def locate(hist: Tensor, k: int) -> tuple[int, int]:
    """(bin, r): the k-th largest entry counted by `hist` lies in `bin`, as its r-th largest."""
    above = hist.cpu().flip(0).cumsum(0)  # above[j]: entries in the top j + 1 bins
    j = int(torch.searchsorted(above, float(k)))
    b = hist.numel() - 1 - j
    return b, k - int(above[j] - hist[b])


def threshold_from_bits(high: int, low: int) -> float:
    """The float32 whose bits are high << 16 | low (a non-negative magnitude)."""
    return float(torch.tensor([(high << 16) | low], dtype=torch.int32).view(torch.float32))


def keep_at_least(x: Tensor, threshold: float | None) -> Tensor:
    """x where |x| >= threshold, else 0 (None keeps everything; NaN keeps nothing): entries
    tied with the threshold are all kept, so the result does not depend on element order."""
    if threshold is None:
        return x
    # a product by the mask (zeros signed like x) is several times faster than torch.where on
    # the CPU; the signs of zeros reach no merged weight (TIES counts only non-zero entries)
    keep = x.abs()
    return torch.ge(keep, threshold, out=keep).mul_(x)  # a float 0/1 mask: faster than a boolean one


def threshold_passes(vectors: Callable[[Tensor, Tensor, Tensor | None], dict[str, Tensor]],
                     fraction: float) -> tuple[StatPass, StatPass]:
    """Two per-tensor passes giving, for each vector `vectors(direct, think, base)` names, the
    magnitude of its round(fraction * numel)-th largest entry (NaN when that count is 0:
    `keep_at_least` then keeps nothing). Run only when the count is below numel."""
    def high(d, t, b, params, numel, start):
        return {key: high_histogram(v) for key, v in vectors(d, t, b).items()}

    def located(sums, params, start):
        k = top_count(start.numel, fraction)
        return {key: locate(h, k) if k > 0 else None for key, h in sums.items()}

    def low(d, t, b, params, numel, loc):
        return {key: low_histogram(v, loc[key][0]) for key, v in vectors(d, t, b).items()
                if loc[key] is not None}

    def threshold(sums, params, loc):
        return {key: math.nan if at is None else threshold_from_bits(at[0], locate(sums[key], at[1])[0])
                for key, at in loc.items()}

    return StatPass(high, located), StatPass(low, threshold)


def dare_keep(x: Tensor, p: float, gen: torch.Generator | PackedKeep) -> Tensor:
    """x with each entry dropped (zeroed) with probability p: one uniform draw per entry, in
    order, made on the CPU from `gen` (so the mask is the same on every device, and slices
    drawn one after another from the same generator give the whole tensor's mask), or the
    next entries of a mask drawn before (merging.draws)."""
    # a float 0/1 mask and a product are several times faster on the CPU than a boolean mask
    # and torch.where
    keep = keep_mask(tuple(x.shape), p, gen).to(x.device)  # 1.0 kept, 0.0 dropped
    if not bool(torch.isfinite(x.sum())):  # NaN/Inf entries (allow_nonfinite): NaN * 0 is NaN
        return torch.where(keep.bool(), x, torch.zeros((), dtype=x.dtype, device=x.device))
    # + 0.0 gives dropped entries +0.0, as torch.where did (x * 0.0 is -0.0 for negative x); a
    # kept -0.0 becomes +0.0 too, which reaches no output: tau = -0.0 only over a base of +0.0
    return (x * keep).add_(0.0)


def dare_drop(x: Tensor, p: float, gen: torch.Generator, rescale: str) -> Tensor:
    """Drop each entry with probability p, then rescale the survivors.

    rescale "inverse" divides by (1 - p) (unbiased: E[result] = x); "l1" scales the
    survivors so that the L1 norm of x is kept (mergekit's choice).
    """
    if p == 0:
        return x
    kept = dare_keep(x, p, gen)
    if rescale == "inverse":
        return kept.div_(1.0 - p)
    if rescale == "l1":
        kept_l1 = abs_sum(kept)
        return kept * (abs_sum(x) / kept_l1) if kept_l1 > 0 else kept
    raise ValueError(f"unknown DARE rescale {rescale!r}; use 'inverse' or 'l1'")


def mask(x: Tensor, op, value: float) -> Tensor:
    """op(x, value) as a float 0/1 tensor (op: torch.ge, gt, eq): several times faster on the CPU
    than a boolean result converted to float (the same values)."""
    return op(x, value, out=torch.empty_like(x))


def nonzero_count(x: Tensor) -> float:
    """How many entries of x are non-zero: the sum of a float 0/1 mask, exact (float32 sums of
    ones are exact up to 2**24; float64 beyond). torch.count_nonzero branches per entry, and is
    ~9x slower on the CPU where zeros and non-zeros mix (a trimmed task vector)."""
    ones = torch.ne(x, 0.0, out=torch.empty(x.shape, dtype=torch.float32, device=x.device))
    return float(ones.sum(dtype=torch.float32 if x.numel() <= 1 << 24 else torch.float64))


def elect_sign(weighted_sum: Tensor) -> Tensor:
    """TIES sign election: +1 where the weighted sum is >= 0 (zero counts as +), else -1."""
    # (s >= 0) * 2 - 1 is exactly +-1, and several times faster than torch.where on the CPU
    return mask(weighted_sum, torch.ge, 0.0).mul_(2.0).sub_(1.0)


def disjoint_mean(xs: tuple[Tensor, ...], ws: tuple[float, ...], elected: Tensor) -> Tensor:
    """TIES disjoint mean: sum(w * x * agree) / sum(w * agree), 0 where nobody agrees.

    An entry agrees when it is non-zero and its sign equals the elected sign; the divisor is
    the summed weight of the agreeing parents (mergekit's normalisation, not PEFT's count).
    """
    num = den = None
    for x, w in zip(xs, ws):
        # x * elected > 0 <=> x != 0 with the elected sign (elected is exactly +-1; NaN: no)
        agree = x * elected
        torch.gt(agree, 0.0, out=agree)
        part_num, part_den = (x * w).mul_(agree), agree.mul_(w)
        num = part_num if num is None else num.add_(part_num)
        den = part_den if den is None else den.add_(part_den)
    # where nobody agrees the quotient is replaced; elsewhere a zero's sign cannot matter
    # (an agreeing entry is non-zero), so this equals the zero-started sums bit for bit
    none = mask(den, torch.eq, 0.0)
    if not bool(torch.isfinite(num.sum())):  # NaN/Inf terms: only torch.where replaces them by 0
        return torch.where(none.bool(), 0.0, num / den.add_(none))
    # where nobody agrees num is a signed zero: q * 0 + (+0) is +0 there, and elsewhere
    # q * 1 + (-0) is q bit for bit, its zero signs included ((none - 1) * 0 is +-0)
    quotient = num.div_(den.add_(none))
    return quotient.mul_(1.0 - none).add_(none.sub_(1.0).mul_(0.0))


def abs_sum(x: Tensor) -> float:
    """sum |x| accumulated in float64."""
    return float(f32(x).abs().sum(dtype=torch.float64))


def sq_sum(x: Tensor) -> float:
    """sum x^2 accumulated in float64 (squares rounded in float32), over blocks of 2**22
    entries (so a large tensor costs no full-size temporary)."""
    flat = x.reshape(-1)
    total = 0.0
    for a in range(0, max(flat.numel(), 1), 1 << 22):
        part = f32(flat[a:a + (1 << 22)])
        total += float((part * part).sum(dtype=torch.float64))
    return total


def dot(a: Tensor, b: Tensor) -> float:
    """sum a*b accumulated in float64 (products rounded in float32)."""
    return float((f32(a) * f32(b)).sum(dtype=torch.float64))


def tensor_generator(seed: int, name: str) -> torch.Generator:
    """A CPU generator seeded from (seed, tensor name) by a stable hash (never Python's hash())."""
    digest = hashlib.blake2b(f"{int(seed)}\x00{name}".encode(), digest_size=8).digest()
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int.from_bytes(digest, "little") & ((1 << 63) - 1))
    return gen
