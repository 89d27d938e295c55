"""Checks made where input enters, before anything is written: merge strengths, parents
that agree (tensor names, shapes, dtypes, architecture), output dtypes, shard sizes and
output directories. Every failure is a ValueError naming the file, the tensor and the fix.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import torch

from merging.checkpoint import Checkpoint

# config.json keys that must agree between parents (when present in both)
ARCH_KEYS = ("model_type", "architectures", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size",
             "tie_word_embeddings", "num_experts", "moe_intermediate_size")
DTYPE_NAMES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def check_lams(lams: Sequence[float], allow_extrapolation: bool) -> list[float]:
    out = []
    for lam in lams:
        try:
            value = float(lam)
        except (TypeError, ValueError):
            raise ValueError(f"lam {lam!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"lam {lam!r} is not finite")
        if not 0.0 <= value <= 1.0 and not allow_extrapolation:
            raise ValueError(f"lam {value} is outside [0, 1] (0 = direct, 1 = thinking); "
                             "pass allow_extrapolation (--allow-extrapolation) to extrapolate")
        out.append(value)
    if not out:
        raise ValueError("no lam given")
    return out


def count_nonfinite(x: torch.Tensor) -> int:
    """Number of NaN/Inf entries of a float tensor. Fast path: any NaN/Inf entry makes the
    sum NaN/Inf, so a finite sum proves every entry finite (an overflowing sum of finite
    entries only sends us to the exact count)."""
    total = x.float().sum() if x.dtype == torch.float16 else x.sum()  # a float16 sum overflows soon
    if bool(torch.isfinite(total)):
        return 0
    return int((~torch.isfinite(x)).sum())


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        if dtype is not None and dtype not in DTYPE_NAMES.values():
            raise ValueError(f"output dtype {dtype} unsupported; use one of {sorted(DTYPE_NAMES)}")
        return dtype
    name = str(dtype).removeprefix("torch.")
    if name in ("auto", ""):
        return None
    if name not in DTYPE_NAMES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {sorted(DTYPE_NAMES)} or auto")
    return DTYPE_NAMES[name]


def parse_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; use cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: CUDA is not available here; use --device cpu")
    return dev


def parse_size(size: str | int) -> int:
    """'5GB' -> 5e9, '500MiB' -> 500 * 2**20, 1000 -> 1000 (bytes)."""
    if isinstance(size, int) and not isinstance(size, bool):
        value = size
    else:
        match = _SIZE.fullmatch(str(size))
        if not match:
            raise ValueError(f"max shard size {size!r} is not a size like 5GB, 500MB or 2GiB")
        value = int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])
    if value <= 0:
        raise ValueError(f"max shard size {size!r} must be positive")
    return value


def check_configs(parents: dict[str, Checkpoint]) -> None:
    roles = list(parents)
    first = parents[roles[0]]
    for role in roles[1:]:
        other = parents[role]
        if (first.config is None) != (other.config is None):
            lacking = first if first.config is None else other
            raise ValueError(f"{lacking.directory / 'config.json'}: missing, while the other "
                             "parents have one; give every parent its config.json")
        if first.config is None:
            continue
        for key in ARCH_KEYS:
            a, b = first.config.get(key), other.config.get(key)
            if key in first.config and key in other.config and a != b:
                raise ValueError(f"{other.directory / 'config.json'}: {key}={b!r} but "
                                 f"{first.directory / 'config.json'} has {key}={a!r}; "
                                 "the parents must share one architecture")


def check_tensors(parents: dict[str, Checkpoint], out_dtype: torch.dtype | None) -> dict[str, torch.dtype]:
    """Same names, shapes and float-ness in every parent; returns name -> output dtype."""
    roles = list(parents)
    first = parents[roles[0]]
    for role in roles[1:]:
        other = parents[role]
        for a, b in ((first, other), (other, first)):
            missing = [n for n in a.tensors if n not in b.tensors]
            if missing:
                raise ValueError(f"{b.path}: tensor {missing[0]!r} is missing (present in {a.path}"
                                 f"{'' if len(missing) == 1 else f' with {len(missing) - 1} more'}); "
                                 "the parents must hold the same tensors")
    dtypes: dict[str, torch.dtype] = {}
    for name, info in first.tensors.items():
        infos = [parents[r].tensors[name] for r in roles]
        for r, other in zip(roles[1:], infos[1:]):
            if other.shape != info.shape:
                raise ValueError(f"{other.file}: tensor {name!r} has shape {list(other.shape)} in the "
                                 f"{r} parent but {list(info.shape)} in {info.file}; the parents "
                                 "must share one architecture")
        floats = {i.dtype.is_floating_point for i in infos}
        if len(floats) > 1:
            raise ValueError(f"{infos[-1].file}: tensor {name!r} is floating-point in some parents "
                             f"and not in others ({[str(i.dtype) for i in infos]})")
        if not info.dtype.is_floating_point:
            if len({i.dtype for i in infos}) > 1:
                raise ValueError(f"{infos[-1].file}: non-float tensor {name!r} has dtypes "
                                 f"{[str(i.dtype) for i in infos]} across parents; they must match")
            dtypes[name] = info.dtype
        elif out_dtype is not None:
            dtypes[name] = out_dtype
        elif len({i.dtype for i in infos}) > 1:
            raise ValueError(f"{infos[-1].file}: tensor {name!r} has dtypes "
                             f"{[str(i.dtype) for i in infos]} across parents; choose the output "
                             "dtype with dtype= (--dtype)")
        else:
            dtypes[name] = info.dtype
    return dtypes


def check_outputs(outs: Sequence[Path], parents: dict[str, Checkpoint], force: bool) -> None:
    resolved = [o.expanduser().resolve() for o in outs]
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"output directories repeat: {[str(o) for o in outs]}")
    inputs = {p.directory.resolve(): r for r, p in parents.items()}
    for out, res in zip(outs, resolved):
        if res in inputs:
            raise ValueError(f"{out}: is the {inputs[res]} parent's directory; choose another output")
        for inp, role in inputs.items():
            if res in inp.parents:
                raise ValueError(f"{out}: contains the {role} parent ({inp}); choose another output")
        if out.exists() and not force:
            raise ValueError(f"{out}: already exists; pass force=True (--force) to replace it")
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: exists and is not a directory")
