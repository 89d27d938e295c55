"""How far two children moved from their shared base: the context every sparse-method
verdict needs (DARE/TIES damage depends on it). Streams one tensor at a time.

    movement(direct_dir, think_dir, base_dir)
    -> {"direct_rel": ||tau_D|| / ||B||, "think_rel": ||tau_T|| / ||B||,
        "cos": cos(tau_D, tau_T), "parents_rel": ||T - D|| / ||B||}

Norms are over all floating-point tensors of the model, flattened together, in float64.
"""
from __future__ import annotations

import math
from pathlib import Path

from merging.checkpoint import open_checkpoint
from merging.safetensors_io import Reader


def movement(direct: str | Path, think: str | Path, base: str | Path) -> dict[str, float]:
    ckpts = {role: open_checkpoint(src) for role, src in (("direct", direct), ("think", think), ("base", base))}
    names = [n for n, info in ckpts["base"].tensors.items() if info.dtype.is_floating_point]
    for role in ("direct", "think"):
        absent = [n for n in names if n not in ckpts[role].tensors]
        if absent:
            raise ValueError(f"{ckpts[role].path}: tensor {absent[0]!r} of the base is missing")
    acc = dict.fromkeys(("bb", "dd", "tt", "dt", "pp"), 0.0)
    with Reader() as reader:
        for name in names:
            b, d, t = (reader.read(ckpts[r].tensors[name]).double() for r in ("base", "direct", "think"))
            td, tt = d - b, t - b
            acc["bb"] += float(b.square().sum())
            acc["dd"] += float(td.square().sum())
            acc["tt"] += float(tt.square().sum())
            acc["dt"] += float((td * tt).sum())
            acc["pp"] += float((tt - td).square().sum())
    nb = math.sqrt(acc["bb"]) or 1.0
    denom = math.sqrt(acc["dd"] * acc["tt"])
    return {
        "direct_rel": math.sqrt(acc["dd"]) / nb,
        "think_rel": math.sqrt(acc["tt"]) / nb,
        "cos": acc["dt"] / denom if denom > 0 else float("nan"),
        "parents_rel": math.sqrt(acc["pp"]) / nb,
    }


__all__ = ["movement"]
