"""One live model per pair: the parents' (and base's) state dicts beside it, each parent's
tokenizer and fingerprints, and what writes a point into it.

A parent is "evaluated" by copying its state dict into the live model (`ParentLoader`), a
merge by `merging.inplace.InPlaceMerger` (`LoadedPair.merger`). `evals.sweep.loading` builds
a LoadedPair; the vLLM backend (`evals.backends.vllm_inplace`) subclasses it with the parents
on the engine's workers.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch

from evals.backends.base import Backend, LiveBackend
from merging.feed import cache_bytes
from merging.parents import ParentTensors
from merging.inplace import InPlaceMerger
from merging.registry import get_method


class ParentLoader:
    """Writes one parent's tensors into the live model (`backend.load_weights`: by name,
    shapes checked, tied lm_head follows the embedding)."""

    def __init__(self, backend: LiveBackend, sd: dict[str, torch.Tensor]):
        self.backend, self.sd = backend, sd

    @torch.no_grad()
    def apply(self, lam: float) -> None:  # lam is the parent's own; nothing to interpolate
        self.backend.load_weights(self.sd)


@dataclass
class LoadedPair:
    backend: Backend  # a LiveBackend (model + load_weights) on the transformers path
    tokenizers: dict
    sd: dict  # role -> state dict on the model's device
    fingerprints: dict  # role -> content fingerprint
    state: dict = field(default_factory=dict)  # which point's weights the model holds now

    def loader(self, role: str) -> ParentLoader:
        return ParentLoader(self.backend, self.sd[role])

    def merger(self, method: str, params: dict, seed: int, cache: bool | None = None, *,
               strength=None, paper_compat: bool = False):
        """An object whose `apply(lam)` writes theta(lam) of `method` into the live model.
        cache None: keep the prepared states when they fit (`choose_cache`). `strength`: a
        merging.schedule.Schedule (each tensor at lam * v(name)); `paper_compat`: the paper's
        code's quirks (merging.apply)."""
        needs_base = get_method(method).needs_base
        if needs_base and "base" not in self.sd:
            raise ValueError(f"method {method!r} needs a base model; the pair has none (set its base)")
        device = next(iter(self.sd["think"].values())).device
        if cache is None:
            cache = choose_cache(method, params, seed, self.sd, device)
        return InPlaceMerger(self.backend.model, self.sd["direct"], self.sd["think"],
                             self.sd.get("base") if needs_base else None, method=method, params=params,
                             seed=seed, device=device, cache=cache, strength=strength,
                             paper_compat=paper_compat)

    def close(self) -> None:
        self.sd.clear()
        self.state.clear()


def choose_cache(method: str, params: dict, seed: int, sd: dict, device: torch.device) -> bool:
    """Keep the prepared merge states when they fit in half the free memory of `device` (GPU) or
    of the machine (CPU). Qwen3-4B: DARE/TIES/EMR states are two float32 copies, ~32 GB."""
    roles = {r: sd[r] for r in ("direct", "think", "base") if r in sd}
    if not get_method(method).needs_base:
        roles.pop("base", None)
    need = cache_bytes(ParentTensors(roles, device=device), method, params, seed)
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
    else:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return need < 0.5 * free
