"""Strength schedules: a different lam for each tensor, by name pattern or by layer.

For the ablations of "Revisiting Model Interpolation for Efficient Reasoning"
(https://arxiv.org/abs/2510.10977: interpolating only some layers or modules) and the search
for a better front than uniform interpolation.

    default: 0.5                  # tensors no rule matches (and, without a curve, no layer)
    self_attn: 0.8                # name patterns, in order: the first that matches wins
    'layers\\.(0|1|2)\\.': 0.2
    lam_layers: linear(0.3, 0.9)  # per-layer curve, first layer -> last (or a list of values)

Definition. The written schedule gives every tensor a profile value v(name):
1. the first rule whose pattern matches the name (Python `re.search`, in the order written:
   flat keys as above, or `rules:` as a list of one-key mappings) sets it;
2. else, when a curve is given and the name has a layer index i (`layers.<i>.`, as in HF
   names `model.layers.12.mlp.up_proj.weight`), the curve at i: linear(a, b) is
   a + (b - a) * i / (L - 1) over the model's L layers (`num_layers`: from the config);
3. else `default` (1.0 when not written: unmatched tensors follow lam itself).
The point's lam is the schedule's SCALE: tensor `name` is merged at strength lam * v(name).
So lam = 1 merges at the strengths as written, lam = 0 gives the direct model everywhere, and
a sweep over lam scans the schedule's scale (its lam axis) with the profile's shape kept.
Strengths outside [0, 1] are extrapolation (`check` refuses them unless allowed).

A Schedule is the `strength(name, lam)` function every driver takes (merging.apply); its
`label` is a stable text, `fingerprint()` a short hash of the definition, and `provenance`
lists for each tensor the rule that set it and its strength (written with every merge).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
_CURVE = re.compile(r"^\s*linear\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")
_RESERVED = ("default", "lam_layers", "num_layers", "rules")
VERSION = 1  # of the definition above: part of every fingerprint


def _number(value: Any, where: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"schedule: {where} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(out):
        raise ValueError(f"schedule: {where} must be a finite number, got {value!r}")
    return out


def _curve(value: Any) -> tuple[str, tuple[float, ...]]:
    """('linear', (a, b)) or ('values', (v0, v1, ...)) from `linear(a, b)` or a list."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("schedule: lam_layers is an empty list; give one value per layer")
        return "values", tuple(_number(v, f"lam_layers[{i}]") for i, v in enumerate(value))
    match = _CURVE.match(str(value))
    if not match:
        raise ValueError(f"schedule: lam_layers {value!r} is not linear(a, b) or a list of per-layer values")
    return "linear", (_number(match[1], "lam_layers' a"), _number(match[2], "lam_layers' b"))


@dataclass(frozen=True)
class Schedule:
    """Per-tensor strengths: ordered (pattern, value) rules, a layer curve, a default."""

    rules: tuple[tuple[str, float], ...] = ()
    default: float = 1.0
    layers: tuple[str, tuple[float, ...]] | None = None  # ('linear', (a, b)) or ('values', (...))
    num_layers: int | None = None

    def __post_init__(self):
        for pattern, _ in self.rules:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"schedule: pattern {pattern!r} is not a valid regular expression ({exc})") from None
        if self.layers and self.layers[0] == "values" and self.num_layers not in (None, len(self.layers[1])):
            raise ValueError(f"schedule: lam_layers lists {len(self.layers[1])} values but the model has "
                             f"{self.num_layers} layers; give one value per layer")

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def parse(cls, value: Any, num_layers: int | None = None) -> Schedule:
        """From a mapping, JSON/YAML text, or the path of a YAML/JSON file (see the module
        docstring for the keys). Raises ValueError naming the field and the fix."""
        if isinstance(value, Schedule):
            return value if num_layers is None else value.with_layers(num_layers)
        where = "schedule"
        if isinstance(value, Path) or (isinstance(value, str) and not any(c in value for c in ":{[\n")):
            path = Path(value)  # a file name (text with none of : { [ or a newline is no mapping)
            if not path.is_file():
                raise ValueError(f"schedule {str(value)!r}: no such file, and not a JSON/YAML mapping either")
            where, value = str(path), path.read_text()
        elif isinstance(value, str) and "\n" not in value and Path(value).is_file():
            where, value = value, Path(value).read_text()
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)  # JSON is YAML
            except yaml.YAMLError as exc:
                raise ValueError(f"{where}: not valid YAML or JSON ({exc})") from None
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: a schedule is a mapping (default, patterns, lam_layers), got {value!r}")
        rules: list[tuple[str, float]] = []
        listed = value.get("rules", [])
        if not isinstance(listed, list) or not all(isinstance(r, Mapping) and len(r) == 1 for r in listed):
            raise ValueError(f"{where}: rules must be a list of one-key mappings, e.g. [{{self_attn: 0.8}}]")
        for rule in listed:
            ((pattern, strength),) = rule.items()
            rules.append((str(pattern), _number(strength, f"rule {pattern!r}")))
        rules += [(str(k), _number(v, f"rule {k!r}")) for k, v in value.items() if k not in _RESERVED]
        layers = _curve(value["lam_layers"]) if value.get("lam_layers") is not None else None
        count = value.get("num_layers", num_layers)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValueError(f"{where}: num_layers must be a positive integer, got {count!r}")
        default = _number(value["default"], "default") if "default" in value else 1.0
        return cls(tuple(rules), default, layers, count if num_layers is None else num_layers)

    def with_layers(self, num_layers: int | None) -> Schedule:
        """This schedule for a model of `num_layers` layers (what a layer curve needs)."""
        return self if num_layers is None else replace(self, num_layers=int(num_layers))

    # -- reading ----------------------------------------------------------------------------
    def value(self, name: str) -> tuple[float, str]:
        """(v(name), the rule that set it: "rule 'pattern'", "lam_layers at layer i", "default")."""
        for pattern, strength in self.rules:
            if re.search(pattern, name):
                return strength, f"rule {pattern!r}"
        match = LAYER.search(name) if self.layers else None
        if match:
            i = int(match[1])
            kind, args = self.layers
            if kind == "values":
                if i >= len(args):
                    raise ValueError(f"schedule: tensor {name!r} is in layer {i} but lam_layers lists "
                                     f"{len(args)} values; give one per layer")
                return args[i], f"lam_layers at layer {i}"
            if self.num_layers is None:
                raise ValueError("schedule: lam_layers linear(a, b) needs the model's layer count: give "
                                 "num_layers (spectrum merge reads it from the config)")
            a, b = args
            t = i / (self.num_layers - 1) if self.num_layers > 1 else 0.0
            return a + (b - a) * t, f"lam_layers at layer {i}"
        return self.default, "default"

    def strength(self, name: str, lam: float) -> float:
        """The lam tensor `name` is merged at, at scale `lam`: lam * v(name)."""
        return lam * self.value(name)[0]

    __call__ = strength  # a Schedule is a merging.apply.Strength

    def check(self, names: Iterable[str], lams: Iterable[float] = (1.0,), allow_extrapolation: bool = False,
              where: str = "the model") -> None:
        """Every rule matches some tensor of `names`, and (unless allowed) every strength at
        every lam of `lams` lies in [0, 1]. Raises ValueError naming the rule or tensor."""
        names = list(names)
        for pattern, _ in self.rules:
            if not any(re.search(pattern, n) for n in names):
                raise ValueError(f"schedule: rule {pattern!r} matches no tensor of {where}; check the pattern")
        if allow_extrapolation:
            return
        for name in names:
            v, rule = self.value(name)
            for lam in lams:
                if not 0.0 <= lam * v <= 1.0:
                    raise ValueError(f"schedule: tensor {name!r} ({rule}) gets strength {lam * v:g} at lam "
                                     f"{lam:g}, outside [0, 1]; pass allow_extrapolation (--allow-extrapolation)")

    def describe(self) -> dict:
        """The definition as plain data (what `parse` reads back, and what is fingerprinted)."""
        out: dict[str, Any] = {"rules": [{p: v} for p, v in self.rules], "default": self.default}
        if self.layers:
            kind, args = self.layers
            out["lam_layers"] = f"linear({args[0]!r}, {args[1]!r})" if kind == "linear" else list(args)
        if self.layers and self.layers[0] == "linear" and self.num_layers is not None:
            out["num_layers"] = self.num_layers  # only a linear curve depends on it
        return out

    @property
    def label(self) -> str:
        """A stable, readable text: 'sched(self_attn=0.8; layers\\.(0|1|2)\\.=0.2; default=0.5)'."""
        parts = [f"{p}={v:g}" for p, v in self.rules]
        if self.layers:
            kind, args = self.layers
            parts.append(f"layers=linear({args[0]:g},{args[1]:g})" if kind == "linear"
                         else "layers=[" + ",".join(f"{v:g}" for v in args) + "]")
        parts.append(f"default={self.default:g}")
        return "sched(" + "; ".join(parts) + ")"

    def fingerprint(self) -> str:
        """12 hex digits of a hash of the definition (stable across runs and machines)."""
        blob = json.dumps([VERSION, self.describe()], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def provenance(self, names: Iterable[str], lam: float) -> dict:
        """For a merge at scale `lam`: the definition, label, fingerprint, and for every tensor
        the rule that set it and its strength."""
        tensors = {}
        for name in names:
            v, rule = self.value(name)
            tensors[name] = {"rule": rule, "strength": lam * v}
        return {"label": self.label, "fingerprint": self.fingerprint(), "scale": lam,
                "definition": self.describe(), "tensors": tensors}
