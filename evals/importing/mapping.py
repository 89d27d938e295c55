"""Which (pair, method, lam) an outside results file belongs to.

Either a regular expression with named groups matched against the file's path, e.g.
`--pattern '(?P<pair>qwen3-4b)/(?P<method>linear)_(?P<lam>[0-9.]+)/'`, or a small CSV with
the columns `file,pair,method,lam` (file: a path or a glob relative to the CSV's folder;
method `none` for a parent). `lam` is the weight of the THINKING parent (convert the
outside name at this boundary: the paper's weighted-average folders `31I-69T` mean lam 0.69).
A file that neither matches gets one line naming the file and the fix.
"""
from __future__ import annotations

import csv
import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

from evals.method_labels import parse_method_label
from merging.registry import list_methods


@dataclass(frozen=True)
class Target:
    pair: str
    method: str | None
    lam: float | None

    def __post_init__(self) -> None:
        # a registered method's label goes through the registry (unknown or repeated parameters
        # refused); an outside label naming no registered method is kept as written
        if self.method is not None and self.method.split("(", 1)[0].strip() in list_methods():
            parse_method_label(self.method)


def _lam(raw: str | None, where: str) -> float | None:
    if raw is None or str(raw).strip() in ("", "none", "-"):
        return None
    try:
        lam = float(raw)
    except ValueError:
        raise ValueError(f"{where}: lam {raw!r} is not a number; give the thinking weight in [0, 1]") from None
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"{where}: lam {lam} is outside [0, 1]; give the THINKING parent's weight")
    return lam


def _method(raw: str | None) -> str | None:
    return None if raw is None or raw.strip().lower() in ("", "none", "-") else raw.strip()


def from_pattern(path: str | Path, pattern: str, *, pair: str | None = None) -> Target:
    m = re.search(pattern, str(path))
    if not m:
        raise ValueError(f"{path}: --pattern {pattern!r} does not match this path; fix the pattern or use --map CSV")
    g = m.groupdict()
    if not (g.get("pair") or pair):
        raise ValueError(f"{path}: --pattern has no (?P<pair>...) group and no --pair was given")
    return Target(pair=g.get("pair") or pair, method=_method(g.get("method")), lam=_lam(g.get("lam"), str(path)))


def from_csv(path: str | Path, csv_path: str | Path) -> Target:
    csv_path = Path(csv_path)
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    missing = {"file", "pair", "method", "lam"} - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}; want file,pair,method,lam")
    p = Path(path).resolve()
    for n, row in enumerate(rows, 2):
        pat = str((csv_path.parent / row["file"]).resolve()) if not Path(row["file"]).is_absolute() else row["file"]
        if fnmatch.fnmatch(str(p), pat):
            return Target(pair=row["pair"].strip(), method=_method(row["method"]), lam=_lam(row["lam"], f"{csv_path}:{n}"))
    raise ValueError(f"{path}: no row of {csv_path} names this file; add a line file,pair,method,lam for it")
