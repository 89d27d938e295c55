"""theta(lam) one tensor at a time, under the checkpoints' own (Hugging Face) names, for an
engine that owns its parameter layout (vLLM fuses q/k/v and gate/up, shards for tensor
parallelism): the engine's `load_weights` takes the (name, tensor) pairs and maps them.

    parents = ParentTensors({"direct": d_dir, "think": t_dir, "base": b_dir}, device="cuda")
    merger = TensorMerger(parents, "ties", {"density": 0.2}, seed=0)
    model.load_weights(merger.tensors(0.6, dtype=torch.bfloat16))   # a generator: one tensor live

Parents (`merging.parents.ParentTensors`) are resident on their device or read per tensor
from their files. Each tensor is prepared and evaluated by the one per-tensor driver
(`merging.apply`); with `cache=True` the prepared states stay on the device between lams
(see `cache_bytes`). The model-wide statistics (EMR) are summed over the same flat slices as
`merging.engine` and `merging.inplace.InPlaceMerger`, so every tensor is bit-identical to
theirs for the same method, parameters, seed and device, rounded to the output dtype the
same way. The vLLM worker that uses it: `evals.backends.vllm_merge_worker`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import torch
from torch import Tensor

from merging.apply import MethodRun, Strength, TensorStates, tied_embeddings
from merging.parents import ParentTensors
from merging.registry import get_method
from merging.statistics import run_passes
from merging.validate import check_lams


class TensorMerger:
    """theta(lam) of one method per tensor; lam = weight of the thinking parent."""

    def __init__(self, parents: ParentTensors, method: str, params: Mapping | None = None, *, seed: int = 0,
                 cache: bool = False, allow_extrapolation: bool = False, strength: Strength | None = None,
                 paper_compat: bool = False, tied: Sequence[str] | None = None):
        # tied: the embedding names a tied model also lists as lm_head.weight (default: found
        # by name, merging.apply.tied_embeddings); they matter only under paper_compat
        self.run = MethodRun(method, params, seed=seed, has_base="base" in parents.roles,
                             where="a base parent", strength=strength, paper_compat=paper_compat,
                             tied=tied_embeddings(parents.names) if tied is None else tied)
        self.spec, self.params = self.run.spec, self.run.params
        self.parents, self.seed, self.cache = parents, seed, cache
        self.allow_extrapolation = allow_extrapolation
        self.floats = parents.floats()
        self._states = TensorStates(self.run, parents, self.floats, cache=cache)
        self.stats = self.run.stats

    def state(self, name: str):
        return self._states.state(name)

    def tensors(self, lam: float, dtype: torch.dtype | None = None,
                names: Sequence[str] | None = None) -> Iterator[tuple[str, Tensor]]:
        """(name, theta(lam)[name]) in checkpoint order; non-float tensors come from the thinking
        parent unchanged. `dtype`: cast of the float32 result (default: the thinking parent's)."""
        (lam,) = check_lams([lam], self.allow_extrapolation)
        floats = set(self.floats)
        for name in names if names is not None else self.parents.names:
            if name not in floats:
                yield name, self.parents.get(name)["think"]
                continue
            out = torch.empty(self.parents.shape(name), dtype=dtype or self.parents.dtype(name),
                              device=self.parents.device)
            self.run.into(self.state(name), name, lam, out)
            yield name, out


def state_extra_bytes(state, inputs: Sequence[Tensor | None]) -> int:
    """Bytes a prepared state holds beyond the parent tensors it merely references."""
    own = {x.untyped_storage().data_ptr() for x in inputs if x is not None}
    leaves = state if isinstance(state, tuple) else (state,)
    total = 0
    for x in leaves:
        if isinstance(x, Tensor) and x.untyped_storage().data_ptr() not in own:
            total += x.numel() * x.element_size()
    return total


def cache_bytes(parents: ParentTensors, method: str, params: Mapping | None = None, seed: int = 0) -> int:
    """Estimated bytes of caching every prepared state of `method`: the state of the largest
    float tensor (its statistics from that tensor alone, which is cheap and only scales
    values), per element, times all float elements. States are per element or per matrix."""
    spec = get_method(method)
    run = MethodRun(method, params, seed=seed, has_base=spec.needs_base)
    floats = parents.floats()
    if not floats:
        return 0
    name = max(floats, key=parents.numel)
    x = parents.get(name)
    d, t, b = x["direct"], x["think"], x.get("base") if spec.needs_base else None
    if spec.model_statistics:
        whole = (d.reshape(-1), t.reshape(-1), None if b is None else b.reshape(-1), d.numel())
        run.stats = run_passes(spec.model_statistics, run.call_params, lambda previous: [whole])
    state = run.prepare(name, d, t, b)
    per_elem = state_extra_bytes(state, (d, t, b)) / max(1, parents.numel(name))
    return int(per_elem * sum(parents.numel(n) for n in floats))
