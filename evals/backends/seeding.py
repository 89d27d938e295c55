"""Per-sample seeds: sample i of a prompt gets its own random stream.

seed(i) = sha256(params.seed, sample_index, prompt) -> 63-bit int. A sample is therefore
the same whatever batch it lands in, a resumed run regenerates exactly the missing
samples, and the same problem sees the same stream at every lam (common random numbers,
which tightens paired comparisons between merges).
"""
from __future__ import annotations

import hashlib


def sample_seed(seed: int, prompt: str, sample_index: int) -> int:
    h = hashlib.sha256(f"{seed}\x1f{sample_index}\x1f{prompt}".encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") & ((1 << 63) - 1)


def resolve_indices(n_prompts: int, n: int, sample_indices) -> list[list[int]]:
    """Which sample indices to produce per prompt (default: 0..n-1 for each)."""
    if sample_indices is None:
        return [list(range(n)) for _ in range(n_prompts)]
    out = [list(ix) for ix in sample_indices]
    if len(out) != n_prompts:
        raise ValueError(f"sample_indices has {len(out)} entries for {n_prompts} prompts; give one list per prompt")
    return out
