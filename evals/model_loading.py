"""Load a thinking/direct pair once for an in-place sweep: one live model, the parents'
(and base's) state dicts on the same device, each parent's tokenizer, and fingerprints.

The live model is built from the thinking parent's directory; a parent is "evaluated"
by copying its state dict into that model, a merge by `merging.inplace.InPlaceMerger`.
Weights are always read from safetensors (never unpickled). Hub ids are resolved through
the local hub cache only when no local path of that name exists.
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
    """Copies one parent's tensors into the live model (tied lm_head follows the embedding)."""

    def __init__(self, model: torch.nn.Module, sd: dict[str, torch.Tensor]):
        self.model, self.sd = model, sd

    @torch.no_grad()
    def apply(self, lam: float) -> None:  # lam is the parent's own; nothing to interpolate
        targets = self.model.state_dict(keep_vars=True)
        missing = [n for n in self.sd if n not in targets]
        if missing:
            raise ValueError(f"parent tensor {missing[0]!r} has no counterpart in the live model")
        for name, t in self.sd.items():
            targets[name].data.copy_(t)


@dataclass
class LoadedPair:
    backend: object
    tokenizers: dict
    sd: dict  # role -> state dict on the model's device
    fingerprints: dict  # role -> content fingerprint
    state: dict = field(default_factory=dict)  # which point's weights the model holds now

    def loader(self, role: str) -> _ParentLoader:
        return _ParentLoader(self.backend.model, self.sd[role])

    def close(self) -> None:
        self.sd.clear()
        self.state.clear()


def load_pair(pair: PairSpec, *, device: str = "cpu", dtype: str | None = None, batch_size: int = 64,
              backend: str = "transformers", need_base: bool = True) -> LoadedPair:
    from transformers import AutoTokenizer

    from merging.checkpoint import load_state_dict, open_checkpoint

    missing = missing_weights(pair, need_base and pair.base is not None)
    if missing:
        raise FileNotFoundError(f"pair {pair.name}: missing " + "; ".join(missing))
    roles = {"direct": pair.direct, "think": pair.think}
    if pair.base is not None and need_base:
        roles["base"] = pair.base
    dirs = {role: locate(src) for role, src in roles.items()}
    torch_dtype = getattr(torch, dtype) if dtype else None
    if backend != "transformers":
        raise ValueError(f"in-place sweeps run on the transformers backend; got {backend!r} "
                         "(evaluate merged checkpoints with `spectrum eval --backend vllm` instead)")
    from evals.backends.transformers_backend import TransformersBackend

    live = TransformersBackend.from_pretrained(str(dirs["think"]), device=device, dtype=dtype)
    live.batch_size = batch_size
    model_device = next(live.model.parameters()).device
    sd = {role: load_state_dict(d, device=model_device, dtype=torch_dtype) for role, d in dirs.items()}
    tokenizers = {role: AutoTokenizer.from_pretrained(str(dirs[role])) for role in ("direct", "think")}
    fingerprints = {role: open_checkpoint(d).fingerprint[:20] for role, d in dirs.items()}
    return LoadedPair(live, tokenizers, sd, fingerprints)
