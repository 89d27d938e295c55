"""Load a thinking/direct pair once for an in-place sweep: one live model, the parents'
(and base's) state dicts on the same device, each parent's tokenizer, and fingerprints.

The live model is built from the thinking parent's directory; a parent is "evaluated"
by copying its state dict into that model, a merge by `merging.inplace.InPlaceMerger`.
Weights are always read from safetensors (never unpickled). Hub ids are resolved through
the local hub cache only when no local path of that name exists.

Devices: "cpu", "cuda" (model, parents and the merge's prepared states on that GPU),
"auto" (transformers `device_map="auto"` over every visible GPU; the parents then stay in
CPU memory and theta(lam) is computed there, then copied into each layer's device). With
backend "vllm" the parents live on the engine's workers (`evals.backends.vllm_inplace`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from evals.pairs import PairSpec


def locate(source: str) -> Path | None:
    """A local directory for `source` without any download: the path itself, or the hub
    cache's snapshot of a hub id; None when neither exists."""
    p = Path(source).expanduser()
    if p.exists():
        return p
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=source, local_files_only=True))
    except Exception:  # not cached / not a hub id / hub library refuses offline lookup
        return None


def pair_movement(pair: PairSpec) -> dict[str, float] | None:
    """How far the pair's children moved from their base (merging.movement), or None
    without a base. Reads the three checkpoints once, one tensor at a time."""
    from merging.movement import movement

    if pair.base is None:
        return None
    return movement(locate(pair.direct), locate(pair.think), locate(pair.base))


def missing_weights(pair: PairSpec, need_base: bool) -> list[str]:
    """Human-readable list of the pair's checkpoints that are not available locally."""
    roles = [("direct", pair.direct), ("think", pair.think)] + ([("base", pair.base)] if need_base else [])
    out = []
    for role, src in roles:
        if src is None:
            out.append(f"--{role} (no {role} model configured)")
        elif locate(src) is None:
            out.append(f"{role} weights {src!r} (a local HF directory, or the hub id in the local "
                       f"hub cache: `huggingface-cli download {src}`)")
    return out


class _ParentLoader:
    """Writes one parent's tensors into the live model (`backend.load_weights`: by name,
    shapes checked, tied lm_head follows the embedding)."""

    def __init__(self, backend, sd: dict[str, torch.Tensor]):
        self.backend, self.sd = backend, sd

    @torch.no_grad()
    def apply(self, lam: float) -> None:  # lam is the parent's own; nothing to interpolate
        self.backend.load_weights(self.sd)


@dataclass
class LoadedPair:
    backend: object
    tokenizers: dict
    sd: dict  # role -> state dict on the model's device
    fingerprints: dict  # role -> content fingerprint
    state: dict = field(default_factory=dict)  # which point's weights the model holds now

    def loader(self, role: str) -> _ParentLoader:
        return _ParentLoader(self.backend, self.sd[role])

    def merger(self, method: str, params: dict, seed: int, cache: bool | None = None):
        """An object whose `apply(lam)` writes theta(lam) of `method` into the live model.
        cache None: keep the prepared states when they fit (`choose_cache`)."""
        from merging.inplace import InPlaceMerger
        from merging.registry import get_method

        needs_base = get_method(method).needs_base
        if needs_base and "base" not in self.sd:
            raise ValueError(f"method {method!r} needs a base model; the pair has none (set its base)")
        device = next(iter(self.sd["think"].values())).device
        if cache is None:
            cache = choose_cache(method, params, seed, self.sd, device)
        return InPlaceMerger(self.backend.model, self.sd["direct"], self.sd["think"],
                             self.sd.get("base") if needs_base else None, method=method, params=params,
                             seed=seed, device=device, cache=cache)

    def close(self) -> None:
        self.sd.clear()
        self.state.clear()


def choose_cache(method: str, params: dict, seed: int, sd: dict, device: torch.device) -> bool:
    """Keep the prepared merge states when they fit in half the free memory of `device` (GPU) or
    of the machine (CPU). Qwen3-4B: DARE/TIES/EMR states are two float32 copies, ~32 GB."""
    import os

    from merging.feed import cache_bytes
    from merging.parents import ParentTensors
    from merging.registry import get_method

    roles = {r: sd[r] for r in ("direct", "think", "base") if r in sd}
    if not get_method(method).needs_base:
        roles.pop("base", None)
    need = cache_bytes(ParentTensors(roles, device=device), method, params, seed)
    if device.type == "cuda":
        free = torch.cuda.mem_get_info(device)[0]
    else:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return need < 0.5 * free


def _pair_dirs(pair: PairSpec, need_base: bool) -> dict[str, Path]:
    missing = missing_weights(pair, need_base and pair.base is not None)
    if missing:
        raise FileNotFoundError(f"pair {pair.name}: missing " + "; ".join(missing))
    roles = {"direct": pair.direct, "think": pair.think}
    if pair.base is not None and need_base:
        roles["base"] = pair.base
    return {role: locate(src) for role, src in roles.items()}


def pair_fingerprints(pair: PairSpec, need_base: bool = True) -> dict[str, str]:
    """role -> content fingerprint (sampled, header-level: cheap) of each checkpoint a sweep loads."""
    from merging.checkpoint import open_checkpoint

    return {role: open_checkpoint(d).fingerprint[:20] for role, d in _pair_dirs(pair, need_base).items()}


def load_pair(pair: PairSpec, *, device: str = "cpu", dtype: str | None = None, batch_size: int = 64,
              backend: str = "transformers", need_base: bool = True, engine: dict | None = None) -> LoadedPair:
    """The live model (built from the thinking parent), parents, tokenizers and fingerprints.
    `engine`: extra keyword arguments of vllm.LLM (backend "vllm" only)."""
    from transformers import AutoTokenizer

    from merging.checkpoint import load_state_dict

    dirs = _pair_dirs(pair, need_base)
    torch_dtype = getattr(torch, dtype) if dtype else None
    tokenizers = {role: AutoTokenizer.from_pretrained(str(dirs[role])) for role in ("direct", "think")}
    fingerprints = pair_fingerprints(pair, need_base)
    if backend == "vllm":
        from evals.backends.vllm_inplace import load_vllm_pair

        return load_vllm_pair(pair, dirs, dtype=dtype, batch_size=batch_size, fingerprints=fingerprints,
                              tokenizers=tokenizers, engine=engine)
    if backend != "transformers":
        raise ValueError(f"backend must be 'transformers' or 'vllm', got {backend!r}")
    from evals.backends.transformers_backend import TransformersBackend

    if device == "auto":  # every visible GPU; parents stay on the CPU
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(str(dirs["think"]), dtype=torch_dtype or torch.float32,
                                                     device_map="auto")
        live = TransformersBackend(model, AutoTokenizer.from_pretrained(str(dirs["think"])), batch_size=batch_size)
        parents_device = torch.device("cpu")
    else:
        live = TransformersBackend.from_pretrained(str(dirs["think"]), device=device, dtype=dtype)
        live.batch_size = batch_size
        parents_device = next(live.model.parameters()).device
    sd = {role: load_state_dict(d, device=parents_device, dtype=torch_dtype) for role, d in dirs.items()}
    return LoadedPair(live, tokenizers, sd, fingerprints)
