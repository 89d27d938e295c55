"""Merge into a model already in memory: sweep lam with no disk at all.

    model = AutoModelForCausalLM.from_pretrained(think_dir, dtype=torch.bfloat16).cuda()
    merger = InPlaceMerger(model, direct_dir, think_dir, method="lore")
    for lam in (0.2, 0.5, 0.8):
        merger.apply(lam)        # model's parameters now hold theta(lam)
        ...evaluate model...

Parents are state dicts (name -> tensor, as in the safetensors files; `lm_head.weight` may
be absent when the target ties it to the embeddings) or checkpoint paths / hub ids, loaded
onto `device` (default: the target's). Each tensor is `prepare`d once at construction
(`cache=True`, memory: the parents plus what the method derives, in float32) or at every
`apply` (`cache=False`, slower, the same numbers); `apply` then only runs `at`. Results are
bit-identical to the streaming engine's for the same method, parameters, seed, device and
thread count (SVD-based methods may differ in the last bits across thread counts).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from merging.checkpoint import load_state_dict
from merging.engine import CHUNK_ELEMS
from merging.registry import get_method
from merging.steps import tensor_generator
from merging.validate import check_lams, count_nonfinite

StateDict = Mapping[str, Tensor]


def collect_stats(spec, params: dict, names, inputs) -> dict:
    """Model-wide statistics (EMR's rescalers) for parents held in memory, summed over the
    same flat slices as the streaming engine's, so the rounding is the same.
    `inputs(name)` gives (direct, think, base-or-None) for one tensor."""
    sums: dict[str, float] = {}
    for name in names:
        tensors = inputs(name)
        numel = tensors[0].numel()
        for a in range(0, numel, CHUNK_ELEMS):
            d, t, b = (None if x is None else x.reshape(-1)[a:a + CHUNK_ELEMS] for x in tensors)
            for key, value in spec.collect(d, t, b, params, numel).items():
                sums[key] = sums.get(key, 0.0) + value
    return spec.finish(sums, params)


class InPlaceMerger:
    """Writes theta(lam) of `method` into `target`'s parameters and buffers in place."""

    def __init__(self, target: nn.Module, direct: StateDict | str | Path, think: StateDict | str | Path,
                 base: StateDict | str | Path | None = None, *, method: str, params: dict | None = None,
                 seed: int = 0, allow_extrapolation: bool = False, device: str | torch.device | None = None,
                 allow_nonfinite: bool = False, cache: bool = True):
        self.spec = get_method(method)
        self.params = self.spec.validate_params(params)
        self.seed, self.allow_extrapolation, self.cache = seed, allow_extrapolation, cache
        if self.spec.needs_base and base is None:
            raise ValueError(f"method {method!r} needs a base model: pass base=")
        if not self.spec.needs_base and base is not None:
            raise ValueError(f"method {method!r} does not use a base model: drop base=")
        targets = target.state_dict(keep_vars=True)
        self.device = torch.device(device) if device is not None else next(
            (t.device for t in targets.values()), torch.device("cpu"))
        parents = {"direct": direct, "think": think, **({"base": base} if base is not None else {})}
        self.parents = {role: self._load(sd) for role, sd in parents.items()}
        self.targets = self._match(targets)
        self.floats = [n for n in self.targets if self.parents["think"][n].is_floating_point()]
        for role, sd in self.parents.items():
            for name in self.targets:
                t = sd[name]
                if not t.is_floating_point() and not torch.equal(t, self.parents["think"][name]):
                    raise ValueError(f"non-float tensor {name!r} of the {role} parent differs from the "
                                     "thinking parent's; such tensors are copied, so they must be equal")
                if t.is_floating_point() and not allow_nonfinite and count_nonfinite(t):
                    raise ValueError(f"tensor {name!r} of the {role} parent holds {count_nonfinite(t)} "
                                     "NaN/Inf values; pass allow_nonfinite=True to merge it anyway")
        self.stats = self._collect() if self.spec.collect is not None else None
        self._states = {n: self._prepare(n) for n in self.floats} if cache else {}

    def _load(self, sd: StateDict | str | Path) -> dict[str, Tensor]:
        if isinstance(sd, (str, Path)):
            return load_state_dict(sd, device=self.device)
        return {name: t.detach().to(self.device) for name, t in sd.items()}

    def _match(self, targets: dict[str, Tensor]) -> dict[str, Tensor]:
        """Parent name -> target tensor; checks names, shapes and tied storage."""
        names = list(self.parents["think"])
        for role, sd in self.parents.items():
            for a, b, where in ((names, sd, role), (sd, names, "think")):
                missing = [n for n in a if n not in b]
                if missing:
                    raise ValueError(f"the {where} parent lacks tensor {missing[0]!r}; "
                                     "the parents must hold the same tensors")
        matched: dict[str, Tensor] = {}
        storage: dict[int, str] = {}
        for name in names:
            if name not in targets:
                raise ValueError(f"the target model has no tensor {name!r}; load the parents' architecture")
            t = targets[name]
            for role, sd in self.parents.items():
                if sd[name].shape != t.shape:
                    raise ValueError(f"tensor {name!r}: {role} parent shape {list(sd[name].shape)}, "
                                     f"target {list(t.shape)}")
                if sd[name].is_floating_point() != t.is_floating_point():
                    raise ValueError(f"tensor {name!r}: float in one of {role} parent/target, not the other")
            key = t.data_ptr()
            if key in storage:  # tied in the target: the parents must agree on both names
                first = storage[key]
                if any(not torch.equal(sd[first], sd[name]) for sd in self.parents.values()):
                    raise ValueError(f"the target ties {name!r} to {first!r} but the parents hold "
                                     "different values for them")
                continue
            storage[key] = name
            matched[name] = t
        for name, t in targets.items():
            if t.data_ptr() not in storage and t.numel() > 0:
                raise ValueError(f"the target's tensor {name!r} is in none of the parents and not tied "
                                 "to one of theirs")
        return matched

    def _inputs(self, name: str) -> tuple[Tensor, Tensor, Tensor | None]:
        base = self.parents.get("base")
        return self.parents["direct"][name], self.parents["think"][name], None if base is None else base[name]

    def _collect(self) -> dict:
        return collect_stats(self.spec, self.params, self.floats, self._inputs)

    def _prepare(self, name: str):
        d, t, b = self._inputs(name)
        return self.spec.prepare(d, t, b, self.params, tensor_generator(self.seed, name), self.stats)

    def diagnostics(self) -> dict[str, float]:
        """The method's summary figures (e.g. SLERP's fallback fraction, LoRE's kept norm)."""
        if self.spec.diagnose is None:
            return {}
        sums: dict[str, float] = {}
        for name in self.floats:
            state = self._states[name] if self.cache else self._prepare(name)
            for key, value in self.spec.diagnose(state).items():
                sums[key] = sums.get(key, 0.0) + value
        return self.spec.summarize(sums) if self.spec.summarize is not None else sums

    @torch.no_grad()
    def apply(self, lam: float) -> None:
        """Write theta(lam) into the target (lam = weight of the thinking parent)."""
        (lam,) = check_lams([lam], self.allow_extrapolation)
        for name, target in self.targets.items():
            if name not in self.floats:
                target.copy_(self.parents["think"][name])
                continue
            state = self._states[name] if self.cache else self._prepare(name)
            self.spec.into(state, lam, target)
