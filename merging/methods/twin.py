"""Twin merging without a router, as "The Thinking Spectrum" ran it.

Paper: Lu et al., "Twin-Merging: Dynamic Integration of Modular Expertise in Model Merging"
(NeurIPS 2024), https://arxiv.org/abs/2406.15479

    theta(lam) = m + (2 lam - 1) * C(d/2),   m = (D + T)/2, d = T - D
C compresses the exclusive knowledge d/2: mode "topk" keeps its largest (1 - mask_rate)
fraction of magnitudes per tensor (ties at the threshold all kept); mode "svd" keeps its
best rank-ceil(rank_frac * min(rows, cols)) approximation (the original Twin's
compression; non-2-D tensors as (rows, -1)).

Bounded memory: topk's threshold comes from two streaming passes over the tensor's slices
(an exact radix select, ties at the threshold all kept: as revision 1's whole-tensor
kthvalue, same bits); svd takes large tall tensors through their Gram matrix as LoRE does
(`merging.spectral.gram_pass`; revision 2: those tensors round differently from the SVD).
Default mask_rate 0.9 keeps 10% of the entries, matching svd's 10% of the rank. At lam = 0.5
the result is the plain average.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, ParamSpec, register
from merging.spectral import (gram_pass, left_spectral, low_rank, rank_projector, row_length, times_rows,
                              uses_gram, uses_left_gram)
from merging.steps import (half_difference as half_of, keep_at_least, midpoint, shift, shift_midpoint_into,
                           sq_sum, threshold_passes, top_count)


class State(NamedTuple):
    direct: Tensor
    think: Tensor
    delta: Tensor  # C(d/2), float32
    half_sq: float


def half_difference(direct, think, base) -> dict[str, Tensor]:
    return {"half": half_of(direct, think)}


def tensor_statistics(params: dict, shape: tuple) -> tuple:
    """topk: the threshold's two passes over d/2, when the mask drops anything."""
    keep, numel = 1.0 - params["mask_rate"], math.prod(shape)
    if params["mode"] == "topk" and top_count(numel, keep) < numel:
        return threshold_passes(half_difference, keep)
    if params["mode"] == "svd" and uses_gram(shape):
        return (gram_pass(lambda d, t, b: half_difference(d, t, b)["half"], then=gram_projector),)
    return ()


def gram_projector(s: Tensor, v: Tensor, params: dict) -> Tensor | None:
    """The rank-`rank_frac` projector of a Gram-route tensor, once per tensor (None: full rank)."""
    rank = math.ceil(params["rank_frac"] * v.shape[0])
    return None if rank >= v.shape[0] else rank_projector(s, v, max(1, rank))


def slice_unit(shape: tuple, params: dict) -> int | None:
    """topk: any flat slice; svd: whole rows on the Gram route, else the tensor whole."""
    if params["mode"] == "topk":
        return 1
    return row_length(shape) if uses_gram(shape) else None


def prepare(direct, think, base, params, gen, stats) -> State:
    half = half_difference(direct, think, base)["half"]
    if params["mode"] == "topk":
        delta = keep_at_least(half, stats["half"] if stats else None)
    elif stats is None and uses_left_gram(tuple(half.shape)):  # large and wide: held whole
        rank = math.ceil(params["rank_frac"] * half.shape[0])
        delta = half if rank >= half.shape[0] else left_spectral(
            half, lambda s: torch.where(torch.arange(s.numel(), device=s.device) >= s.numel() - rank, s, 0.0))[0]
    elif stats is None:
        delta, _ = low_rank(half, params["rank_frac"])
    else:  # the Gram route (large tall tensors): `stats` = (projector or None, numel)
        p, _ = stats
        delta = half if p is None else times_rows(half, p)
    return State(direct, think, delta, sq_sum(half))


def at(state: State, lam: float) -> Tensor:
    return shift(midpoint(state.direct, state.think), state.delta, 2.0 * lam - 1.0)


def at_into(state: State, lam: float, out: Tensor) -> None:
    shift_midpoint_into(state.direct, state.think, state.delta, 2.0 * lam - 1.0, out)


def diagnose(state: State) -> dict[str, float]:
    return {"half_sq": state.half_sq, "kept_sq": sq_sum(state.delta)}


def summarize(sums: dict[str, float]) -> dict[str, float]:
    return {"kept_norm_fraction": math.sqrt(sums["kept_sq"] / sums["half_sq"]) if sums["half_sq"] > 0 else 1.0}


SPEC = register(
    MethodSpec(
        name="twin",
        needs_base=False,
        params={
            "mask_rate": ParamSpec(0.9, float, "topk: fraction of d/2 zeroed (smallest magnitudes)",
                                   check=lambda v: None if 0 <= v <= 1 else "must be in [0, 1]"),
            "mode": ParamSpec("topk", str, "compression of d/2", choices=("topk", "svd")),
            "rank_frac": ParamSpec(0.1, float, "svd: fraction of the rank kept",
                                   check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]"),
        },
        paper="https://arxiv.org/abs/2406.15479",
        description="m + (2*lam-1)*C((T-D)/2), C = top-k magnitudes or rank-r SVD",
        revision=2,  # svd: the Gram route for large tall tensors since revision 2
        prepare=prepare,
        at=at,
        at_into=at_into,
        upcast=False,  # the parents stay in their dtype; computed in float32
        # topk: element by element given the tensor's threshold (so merged on one thread, as
        # every elementwise method: OpenMP workers spinning on a busy machine cost more than
        # they gain on 1M-element slices); svd: the tensor or its rows whole
        elementwise_when=lambda params: params["mode"] == "topk",
        tensor_statistics=tensor_statistics,
        slice_unit=slice_unit,
        diagnose=diagnose,
        summarize=summarize,
        # not sparse: the midpoint keeps both parents whole; only the exclusive half-difference
        # d/2 is compressed (as the paper compresses an expert), not the task vectors
        sparse=None,
    )
)
