"""How much memory a method's prepared states hold beyond the parents, read off the states
themselves: the one source of the figure a memory plan (evals.plan_memory) bills.

    state_copies("ties", {"density": 0.2})     # 2.0: two float32 task vectors per tensor

The in-memory drivers (merging.inplace with cache=True, merging.feed) keep one `prepare`d
state per float tensor next to the parents. Rather than a table to keep in step with every
method, this prepares a small bf16 trio (the parents' usual dtype) through the same driver
(`merging.apply.TensorStates`, model-wide statistics included) and counts the bytes of every
tensor a state holds that is not a view of a parent, in float32 copies of the model
(bytes / (4 x entries)). Views of the parents (linear, SLERP, task arithmetic) cost
nothing; a float32 task vector costs 1 (DARE, TIES, EMR hold two; LoRE and Twin one shift;
the top-share methods one int32 ranking key per entry). Model-wide statistics (EMR's two
rescalers, the top-share methods' histograms of |think - direct|: 32,768 counts plus 65,536
per refined bin) do not grow with the model and are left out, as are the per-tensor
temporaries of `prepare` and `at` (one tensor at a time, never the whole model).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor

from merging.apply import MethodRun, TensorStates
from merging.parents import ParentTensors
from merging.registry import get_method

# a tied embedding, a wide matrix, a tall one and a norm: the shapes whose routes differ
_SHAPES = {"model.embed_tokens.weight": (40, 16), "model.layers.0.self_attn.q_proj.weight": (24, 16),
           "model.layers.0.mlp.down_proj.weight": (16, 48), "model.layers.0.input_layernorm.weight": (16,)}


def _tensors(state: Any) -> list[Tensor]:
    """The tensors a state holds (a tensor, or a tuple / NamedTuple of fields)."""
    if isinstance(state, Tensor):
        return [state]
    if isinstance(state, tuple):
        return [t for field in state for t in _tensors(field)]
    return []


def _parents(needs_base: bool) -> dict[str, dict[str, Tensor]]:
    gen = torch.Generator().manual_seed(0)
    base = {n: torch.randn(s, generator=gen) for n, s in _SHAPES.items()}
    roles = {"direct": 0.05, "think": 0.08}  # children near the base, as real ones are
    out = {r: {n: (b + scale * torch.randn(b.shape, generator=gen)).to(torch.bfloat16) for n, b in base.items()}
           for r, scale in roles.items()}
    if needs_base:
        out["base"] = {n: b.to(torch.bfloat16) for n, b in base.items()}
    return out


@lru_cache(maxsize=None)
def _copies(method: str, params: tuple, paper_compat: bool) -> float:
    spec = get_method(method)
    sources = _parents(spec.needs_base)
    run = MethodRun(method, dict(params), has_base=spec.needs_base, paper_compat=paper_compat,
                    tied=("model.embed_tokens.weight",))
    parents = ParentTensors(sources)
    held = {t.untyped_storage().data_ptr() for n in parents.names for t in parents.get(n).values()}
    states = TensorStates(run, parents, cache=True)
    extra: dict[int, int] = {}
    for name in states.names:
        for t in _tensors(states.state(name)):
            ptr = t.untyped_storage().data_ptr()
            if ptr not in held:
                extra[ptr] = t.untyped_storage().nbytes()
    return sum(extra.values()) / (4 * sum(math.prod(s) for s in _SHAPES.values()))


def state_copies(method: str, params: Mapping[str, Any] | None = None, paper_compat: bool = False) -> float:
    """Float32 copies of the model that `method`'s prepared states hold beyond the parents,
    at `params` (validated; defaults filled). ValueError for an unknown method or parameter."""
    valid = get_method(method).validate_params(params)
    return _copies(method, tuple(sorted(valid.items())), bool(paper_compat))
