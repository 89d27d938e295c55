"""EMR (elect, mask, rescale), as "The Thinking Spectrum" adapts it to two parents.

Paper: Huang et al., "EMR-Merging: Tuning-Free High-Performance Model Merging"
(NeurIPS 2024), https://arxiv.org/abs/2405.17461

With tau_X = X - B:
    gamma   = sign(tau_D + tau_T), zero -> -1
    M_X     = (tau_X * gamma > 0)
    tau_uni = gamma * max_X |tau_X * M_X|
    r_X     = sum over tensors of mean|tau_X| / sum over tensors of mean|tau_uni * M_X|
    theta(lam) = B + (1 - lam) * r_D * (tau_uni * M_D) + lam * r_T * (tau_uni * M_T)
r_X is ONE scalar per parent over the whole model: `collect` adds each tensor's share
(a streaming first pass) and `finish` divides. A zero denominator gives r_X = 1 (the
masked vectors are then zero everywhere). Note theta(1) != T.

paper_compat (the paper's `emr_merge_models`): on a tied model its sums run over every
`state_dict()` key, so the embedding (also listed as `lm_head.weight`) counts twice in
r_D and r_T; the drivers then feed its slices twice to `collect` (merging.apply). Off by
default; nothing else differs.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from merging.registry import MethodSpec, register
from merging.steps import abs_sum, apply_task_vectors, apply_task_vectors_into, mask, task_vector


class State(NamedTuple):
    base: Tensor
    direct: Tensor  # r_D * tau_uni * M_D, float32
    think: Tensor  # r_T * tau_uni * M_T, float32


def unify(tau_d: Tensor, tau_t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(tau_uni * M_D, tau_uni * M_T, tau_uni) for one tensor (or slice)."""
    if not bool(torch.isfinite(tau_d.sum() + tau_t.sum())):  # NaN/Inf entries: only where() zeroes them
        return unify_where(tau_d, tau_t)
    # float 0/1 masks and products: the values of unify_where, several times faster on the CPU
    gamma = mask(tau_d + tau_t, torch.gt, 0.0).mul_(2.0).sub_(1.0)  # +-1, zero -> -1
    m_d = tau_d * gamma
    m_t = tau_t * gamma
    torch.gt(m_d, 0.0, out=m_d)
    torch.gt(m_t, 0.0, out=m_t)
    uni = torch.maximum(tau_d.abs().mul_(m_d), tau_t.abs().mul_(m_t)).mul_(gamma)  # |x| * 0 is +0
    # uni * 0 is -0 where gamma < 0; + 0.0 makes it +0 as where() does (a masked-in uni is non-zero)
    return (uni * m_d).add_(0.0), (uni * m_t).add_(0.0), uni


def unify_where(tau_d: Tensor, tau_t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """`unify` by torch.where (any values, NaN and Inf included)."""
    gamma = torch.where(tau_d + tau_t > 0, 1.0, -1.0).to(tau_d)
    m_d = (tau_d * gamma) > 0
    m_t = (tau_t * gamma) > 0
    zero = torch.zeros((), dtype=tau_d.dtype, device=tau_d.device)
    uni = gamma * torch.maximum(torch.where(m_d, tau_d.abs(), zero), torch.where(m_t, tau_t.abs(), zero))
    return torch.where(m_d, uni, zero), torch.where(m_t, uni, zero), uni


def collect(direct, think, base, params, numel: int) -> dict[str, float]:
    """This tensor's (or slice's) share of the four sums; `numel` is the whole tensor's size."""
    tau_d, tau_t = task_vector(direct, base), task_vector(think, base)
    uni_d, uni_t, _ = unify(tau_d, tau_t)
    return {
        "tau_direct": abs_sum(tau_d) / numel, "tau_think": abs_sum(tau_t) / numel,
        "uni_direct": abs_sum(uni_d) / numel, "uni_think": abs_sum(uni_t) / numel,
    }


def finish(sums: dict[str, float], params: dict) -> dict[str, float]:
    def ratio(num: float, den: float) -> float:
        return num / den if den > 0 else 1.0

    return {"r_direct": ratio(sums["tau_direct"], sums["uni_direct"]),
            "r_think": ratio(sums["tau_think"], sums["uni_think"])}


def prepare(direct, think, base, params, gen, stats) -> State:
    uni_d, uni_t, _ = unify(task_vector(direct, base), task_vector(think, base))
    return State(base, uni_d * stats["r_direct"], uni_t * stats["r_think"])


def at(state: State, lam: float) -> Tensor:
    return apply_task_vectors(state.base, state.direct, state.think, lam)


def at_into(state: State, lam: float, out: Tensor) -> None:
    apply_task_vectors_into(state.base, state.direct, state.think, lam, out)


SPEC = register(
    MethodSpec(
        name="emr",
        needs_base=True,
        params={},
        paper="https://arxiv.org/abs/2405.17461",
        description="unified task vector, per-parent masks and model-wide rescalers (two passes)",
        prepare=prepare,
        at=at,
        at_into=at_into,
        elementwise=True,
        collect=collect,
        finish=finish,
    )
)
