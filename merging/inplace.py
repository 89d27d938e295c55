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
thread count (SVD-based methods may differ in the last bits across thread counts): both go
through the one per-tensor driver, `merging.apply`. `strength(name, lam)`, when given, is
each tensor's own lam. `paper_compat=True` reproduces the paper's code (merging.apply); the
tied embedding is the target's tensor that also serves another of its names (lm_head).
each tensor's own lam. Parent names are checkpoint names: per-expert MoE tensors land in their
slices of transformers 5's fused expert parameters (`merging.expert_layout`).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn

from merging.expert_layout import LiveTensors
from merging.apply import MethodRun, Strength, TensorStates
from merging.parents import ParentTensors
from merging.validate import check_lams

StateDict = Mapping[str, Tensor]


class InPlaceMerger:
    """Writes theta(lam) of `method` into `target`'s parameters and buffers in place."""

    def __init__(self, target: nn.Module, direct: StateDict | str | Path, think: StateDict | str | Path,
                 base: StateDict | str | Path | None = None, *, method: str, params: dict | None = None,
                 seed: int = 0, allow_extrapolation: bool = False, device: str | torch.device | None = None,
                 allow_nonfinite: bool = False, cache: bool = True, strength: Strength | None = None,
                 paper_compat: bool = False):
        self.run = MethodRun(method, params, seed=seed, has_base=base is not None, strength=strength,
                             paper_compat=paper_compat)
        self.spec, self.params = self.run.spec, self.run.params
        self.seed, self.allow_extrapolation, self.cache = seed, allow_extrapolation, cache
        self.live = LiveTensors(target)
        targets = self.live.all()                 # checkpoint name -> live view (MoE experts too)
        self.device = torch.device(device) if device is not None else next(
            (t.device for t in targets.values()), torch.device("cpu"))
        sources = {"direct": direct, "think": think, **({"base": base} if base is not None else {})}
        # shapes are checked against the target's (in _match), not the thinking parent's
        self.sources = ParentTensors(sources, device=self.device, check_shapes=False)
        self.parents = {role: {n: self.sources.get(n)[role] for n in self.sources.names}
                        for role in self.sources.roles}
        self.targets = self._match(targets)
        self.run.tied = self._tied(targets)
        self.floats = [n for n in self.targets if self.sources.is_float(n)]
        self.sources.check_values(list(self.targets), allow_nonfinite)
        self._states = TensorStates(self.run, self.sources, self.floats, cache=cache)
        self.stats = self.run.stats
        if cache:
            self._states.prepare_all()

    def _match(self, targets: dict[str, Tensor]) -> dict[str, Tensor]:
        """Parent name -> target tensor; checks shapes and tied storage (names: ParentTensors)."""
        names = self.sources.names
        matched: dict[str, Tensor] = {}
        storage: dict[int, str] = {}
        for name in names:
            t = targets[name] if name in targets else self.live.find(name)  # unknown: ValueError naming both
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

    def _tied(self, targets: dict[str, Tensor]) -> tuple[str, ...]:
        """Merged names whose target storage another of the target's names shares."""
        first = {t.data_ptr(): name for name, t in self.targets.items()}
        return tuple(dict.fromkeys(first[t.data_ptr()] for name, t in targets.items()
                                   if t.data_ptr() in first and first[t.data_ptr()] != name
                                   and t.numel() > 0))

    def diagnostics(self) -> dict[str, float]:
        """The method's summary figures (e.g. SLERP's fallback fraction, LoRE's kept norm)."""
        return self._states.diagnostics()

    @torch.no_grad()
    def apply(self, lam: float) -> None:
        """Write theta(lam) into the target (lam = weight of the thinking parent)."""
        (lam,) = check_lams([lam], self.allow_extrapolation)
        floats = set(self.floats)
        for name, target in self.targets.items():
            if name not in floats:
                target.copy_(self.parents["think"][name])
                continue
            self.run.into(self._states.state(name), name, lam, target)
