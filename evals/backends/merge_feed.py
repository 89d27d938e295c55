"""theta(lam) one tensor at a time, under the checkpoints' own (Hugging Face) names, for an
engine that owns its parameter layout (vLLM fuses q/k/v and gate/up, shards for tensor
parallelism): the engine's `load_weights` takes the (name, tensor) pairs and maps them.

    parents = ParentTensors({"direct": d_dir, "think": t_dir, "base": b_dir}, device="cuda")
    merger = TensorMerger(parents, "ties", {"density": 0.2}, seed=0)
    model.load_weights(merger.tensors(0.6, dtype=torch.bfloat16))   # a generator: one tensor live

Parents are either resident on `device` (`resident="device"`: fastest swaps, memory = the
parents' bytes) or read per tensor from their safetensors files (`resident="host"`: pread
through the OS page cache, which tensor-parallel workers on one node share; memory = one
tensor). Each tensor is `prepare`d by the registry's operator and evaluated with `spec.into`; with
`cache=True` the prepared states stay on `device` between lams (see `cache_bytes`). The
model-wide statistics (EMR) are summed over the same flat slices as `merging.engine` and
`merging.inplace.InPlaceMerger`, so every tensor is bit-identical to theirs for the same
method, parameters, seed and device, rounded to the output dtype the same way (`spec.into`).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from merging.inplace import collect_stats
from merging.registry import get_method
from merging.steps import tensor_generator
from merging.validate import check_lams

ROLES = ("direct", "think", "base")


class ParentTensors:
    """The parents' (and base's) tensors by checkpoint name, in the thinking parent's order."""

    def __init__(self, sources: Mapping[str, str | Path | Mapping[str, Tensor]], *,
                 device: str | torch.device = "cpu", resident: str = "device"):
        if resident not in ("device", "host"):
            raise ValueError(f"resident must be 'device' or 'host', got {resident!r}")
        unknown = set(sources) - set(ROLES)
        if unknown or not {"direct", "think"} <= set(sources):
            raise ValueError(f"parents are direct, think (and base); got {sorted(sources)}")
        self.device, self.resident = torch.device(device), resident
        self._sd: dict[str, Mapping[str, Tensor]] = {}
        self._infos: dict[str, dict] = {}
        self._reader = None
        for role, src in sources.items():
            if isinstance(src, Mapping):
                if resident == "host":
                    raise ValueError(f"resident='host' reads checkpoint files; the {role} parent is a state dict")
                self._sd[role] = {n: t.detach().to(self.device) for n, t in src.items()}
            elif resident == "device":
                from merging.checkpoint import load_state_dict

                self._sd[role] = load_state_dict(src, device=self.device)
            else:
                from merging.checkpoint import open_checkpoint

                self._infos[role] = open_checkpoint(src).tensors
        if self._infos:
            from merging.safetensors_io import Reader

            self._reader = Reader()
        self.roles = tuple(r for r in ROLES if r in sources)
        self.names = list(self._catalog("think"))
        for role in self.roles:
            have = self._catalog(role)
            for a, b, who in ((self.names, have, role), (have, self.names, "think")):
                missing = [n for n in a if n not in b]
                if missing:
                    raise ValueError(f"the {who} parent lacks tensor {missing[0]!r}; the parents must hold "
                                     "the same tensors")
            for n in self.names:
                if tuple(self.shape(n, role)) != tuple(self.shape(n, "think")):
                    raise ValueError(f"tensor {n!r}: {role} parent shape {list(self.shape(n, role))}, "
                                     f"think parent {list(self.shape(n, 'think'))}")

    def _catalog(self, role: str) -> Mapping:
        return self._sd[role] if role in self._sd else self._infos[role]

    def shape(self, name: str, role: str = "think") -> tuple[int, ...]:
        return tuple(self._catalog(role)[name].shape)

    def dtype(self, name: str, role: str = "think") -> torch.dtype:
        return self._catalog(role)[name].dtype

    def is_float(self, name: str) -> bool:
        return self.dtype(name).is_floating_point

    def numel(self, name: str) -> int:
        return int(torch.Size(self.shape(name)).numel())

    def nbytes(self) -> int:
        """Bytes the parents occupy on `device` (0 when they are read from files per tensor)."""
        return sum(t.numel() * t.element_size() for sd in self._sd.values() for t in sd.values())

    def get(self, name: str) -> dict[str, Tensor]:
        """role -> that parent's tensor `name` on `device`, in its stored dtype."""
        if self._sd:
            return {role: self._sd[role][name] for role in self.roles}
        return {role: self._reader.read(self._infos[role][name]).to(self.device) for role in self.roles}

    def close(self) -> None:
        self._sd.clear()
        if self._reader is not None:
            self._reader.close()


class TensorMerger:
    """theta(lam) of one method per tensor; lam = weight of the thinking parent."""

    def __init__(self, parents: ParentTensors, method: str, params: Mapping | None = None, *, seed: int = 0,
                 cache: bool = False, allow_extrapolation: bool = False):
        self.spec = get_method(method)
        self.params = self.spec.validate_params(params)
        if self.spec.needs_base != ("base" in parents.roles):
            need = "needs a base model" if self.spec.needs_base else "does not use a base model"
            raise ValueError(f"method {method!r} {need}; the parents given are {list(parents.roles)}")
        self.parents, self.seed, self.cache = parents, seed, cache
        self.allow_extrapolation = allow_extrapolation
        self.floats = [n for n in parents.names if parents.is_float(n)]
        self.stats = self._collect() if self.spec.collect is not None else None
        self._states: dict[str, object] = {}

    def _inputs(self, name: str) -> tuple[Tensor, Tensor, Tensor | None]:
        x = self.parents.get(name)
        return x["direct"], x["think"], x.get("base")

    def _collect(self) -> dict:
        """Model-wide statistics over the same flat slices as the streaming engine's."""
        return collect_stats(self.spec, self.params, self.floats, self._inputs)

    def state(self, name: str):
        if name in self._states:
            return self._states[name]
        d, t, b = self._inputs(name)
        state = self.spec.prepare(d, t, b, self.params, tensor_generator(self.seed, name), self.stats)
        if self.cache:
            self._states[name] = state
        return state

    def tensors(self, lam: float, dtype: torch.dtype | None = None,
                names: Sequence[str] | None = None) -> Iterator[tuple[str, Tensor]]:
        """(name, theta(lam)[name]) in checkpoint order; non-float tensors come from the thinking
        parent unchanged. `dtype`: cast of the float32 result (default: the thinking parent's)."""
        (lam,) = check_lams([lam], self.allow_extrapolation)
        for name in names if names is not None else self.parents.names:
            if name not in self.floats:
                yield name, self.parents.get(name)["think"]
                continue
            out = torch.empty(self.parents.shape(name), dtype=dtype or self.parents.dtype(name),
                              device=self.parents.device)
            self.spec.into(self.state(name), lam, out)
            yield name, out


def parent_tensors(parents: ParentTensors, role: str, dtype: torch.dtype | None = None) -> Iterator[tuple[str, Tensor]]:
    """One parent's own tensors (a parent point of the sweep), cast like a merge's."""
    if role not in parents.roles:
        raise ValueError(f"no {role!r} parent; have {list(parents.roles)}")
    for name in parents.names:
        t = parents.get(name)[role]
        yield name, t.to(dtype) if dtype is not None and t.is_floating_point() else t


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
    params = spec.validate_params(params)
    floats = [n for n in parents.names if parents.is_float(n)]
    if not floats:
        return 0
    name = max(floats, key=parents.numel)
    x = parents.get(name)
    d, t, b = x["direct"], x["think"], x.get("base") if spec.needs_base else None
    stats = None
    if spec.collect is not None:
        stats = spec.finish(spec.collect(d.reshape(-1), t.reshape(-1), None if b is None else b.reshape(-1),
                                         params, d.numel()), params)
    state = spec.prepare(d, t, b, params, tensor_generator(seed, name), stats)
    per_elem = state_extra_bytes(state, (d, t, b)) / max(1, parents.numel(name))
    return int(per_elem * sum(parents.numel(n) for n in floats))
