"""Checks for values where they enter (configs, CLI options, data files), one line each.

Pure functions: each returns the cleaned value or raises ValueError whose message names
where the value came from (`where`: a file and key, or a CLI option) and the fix.

    limit = check_limit(raw, "configs/tiny.yaml: limit")        # None or an int >= 1
    lams = check_lams(raw, "--lams")                               # finite, [0, 1], no repeats
    n = check_samples(raw, "--samples")                            # an int >= 1
    check_data_file(path, "--data")                                # exists, a file, not empty
    n = check_count(raw, "batch_size", "configs/tiny.yaml: batch_size")  # an int >= 1
    seed = check_seed(raw, "--seed")                               # an int
    device = check_device(raw, "--device")                         # cpu, cuda, cuda:N or mps
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterable


def _as_int(value, where: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where}: {what} must be a whole number, got {value!r}")
    try:
        f = float(value)
    except ValueError:
        raise ValueError(f"{where}: {what} must be a whole number, got {value!r}") from None
    if not math.isfinite(f) or f != int(f):
        raise ValueError(f"{where}: {what} must be a whole number, got {value!r}")
    return int(f)


def check_limit(value, where: str) -> int | None:
    """None (every problem) or an int >= 1 (the first N problems)."""
    if value is None:
        return None
    n = _as_int(value, where, "limit")
    if n < 1:
        raise ValueError(f"{where}: limit {n} must be >= 1 (the first N problems), or left out for all problems")
    return n


def check_samples(value, where: str) -> int:
    """Samples per problem: an int >= 1."""
    n = _as_int(value, where, "samples")
    if n < 1:
        raise ValueError(f"{where}: samples {n} must be >= 1 (samples per problem)")
    return n


def check_lams(values: Iterable, where: str, *, extrapolate: bool = False) -> tuple[float, ...]:
    """Thinking weights: numbers, finite, in [0, 1] unless `extrapolate`, no value twice."""
    out: list[float] = []
    seen: dict[float, int] = {}
    for i, raw in enumerate(values):
        if isinstance(raw, bool):
            raise ValueError(f"{where}: lam #{i + 1} must be a number, got {raw!r}")
        try:
            lam = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: lam #{i + 1} must be a number, got {raw!r}") from None
        if not math.isfinite(lam):
            raise ValueError(f"{where}: lam #{i + 1} must be finite, got {raw!r}")
        if not extrapolate and not 0.0 <= lam <= 1.0:
            raise ValueError(f"{where}: lam {lam:g} outside [0, 1] (the thinking weight); ask for extrapolation "
                             "explicitly to go beyond")
        key = round(lam, 6)
        if key in seen:
            raise ValueError(f"{where}: lam {lam:g} given twice (#{seen[key] + 1} and #{i + 1}); repeated lams "
                             "would count the same samples twice")
        seen[key] = i
        out.append(lam)
    if not out:
        raise ValueError(f"{where}: no lams given; list at least one thinking weight")
    return tuple(out)


def check_data_file(path: str | Path, where: str) -> Path:
    """A data file that exists, is a file, and is not empty (nor only whitespace)."""
    p = Path(path)
    if not p.exists():
        raise ValueError(f"{where}: {p} does not exist; give the path of the benchmark's data file")
    if not p.is_file():
        raise ValueError(f"{where}: {p} is a directory, not a data file")
    with p.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        raise ValueError(f"{where}: {p} is empty; it must hold the benchmark's problems")
    return p


def check_count(value, what: str, where: str) -> int:
    """A count that must be at least one (batch size, token cap, threads): an int >= 1."""
    n = _as_int(value, where, what)
    if n < 1:
        raise ValueError(f"{where}: {what} {n} must be >= 1")
    return n


def check_seed(value, where: str) -> int:
    """A seed: any whole number (checked before any work, so a typo costs nothing)."""
    return _as_int(value, where, "seed")


_DEVICE = re.compile(r"(cpu|cuda|cuda:\d+|mps)")


def check_device(value, where: str) -> str:
    """A torch device this project runs on: cpu, cuda, cuda:N or mps."""
    if not isinstance(value, str) or not _DEVICE.fullmatch(value.strip()):
        raise ValueError(f"{where}: device {value!r} is not one of cpu, cuda, cuda:N, mps")
    return value.strip()
