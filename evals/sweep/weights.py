"""Where a pair's checkpoints are on this machine, and what they are, without loading a model.

    dirs = pair_dirs(pair, need_base=True)        # role -> local directory (FileNotFoundError names the fix)
    fps = pair_fingerprints(pair)                  # role -> content fingerprint (headers only)

Hub ids are resolved through the local hub cache only when no local path of that name exists;
nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path

from evals.sweep.presets import PairSpec
from merging.checkpoint import open_checkpoint
from merging.movement import movement


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


def pair_dirs(pair: PairSpec, need_base: bool) -> dict[str, Path]:
    missing = missing_weights(pair, need_base and pair.base is not None)
    if missing:
        raise FileNotFoundError(f"pair {pair.name}: missing " + "; ".join(missing))
    roles = {"direct": pair.direct, "think": pair.think}
    if pair.base is not None and need_base:
        roles["base"] = pair.base
    return {role: locate(src) for role, src in roles.items()}


def pair_fingerprints(pair: PairSpec, need_base: bool = True) -> dict[str, str]:
    """role -> content fingerprint (sampled, header-level: cheap) of each checkpoint a sweep loads."""
    return {role: open_checkpoint(d).fingerprint[:20] for role, d in pair_dirs(pair, need_base).items()}


def think_layout(pair: PairSpec) -> tuple[list[str], int | None]:
    """(the thinking parent's floating-point tensor names, its config's num_hidden_layers or None):
    what a strength schedule is checked against and what its layer curve needs (headers only)."""
    think = open_checkpoint(pair_dirs(pair, False)["think"])
    layers = (think.config or {}).get("num_hidden_layers")
    floats = [n for n, info in think.tensors.items() if info.dtype.is_floating_point]
    return floats, layers if isinstance(layers, int) and not isinstance(layers, bool) else None
