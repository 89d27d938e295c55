"""The keys a sweep config may hold and the type of each, checked before anything is built:
a typo at any depth (`sampling: {temprature: 0.6}`) or a wrongly typed value is one line
naming the key, what it holds and what is expected.

    check_config(raw_mapping, where="configs/qwen3-4b.yaml")   # ValueError or None
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evals.backends.vllm_settings import KEYS as ENGINE_KEYS

# expected kinds: "int", "number", "str", "bool", "list", "mapping", "null" (None allowed)
_TOP: dict[str, tuple[str, ...]] = {
    "pair": ("str", "mapping"), "pairs": ("list", "str", "mapping"), "preset": ("str",),
    "methods": ("list", "str", "mapping"), "lams": ("list", "str", "number"), "benchmarks": ("list", "str"),
    "sampling": ("mapping",), "samples": ("mapping",), "data": ("mapping",), "limit": ("int", "null"),
    "prompt_mode": ("str",), "backend": ("str",), "device": ("str",), "dtype": ("str", "null"),
    "batch_size": ("int",), "threads": ("int", "null"), "seed": ("int",), "results": ("str",),
    "engine": ("mapping",), "merge_cache": ("bool", "null"),
    "adaptive": ("mapping", "null"), "sequential": ("mapping", "null"), "paper_compat": ("bool",),
}
# a `methods:` entry that is not a plain label (evals.sweep.variants)
METHOD_ENTRY: dict[str, tuple[str, ...]] = {
    "method": ("str",), "schedule": ("mapping", "str"), "paper_compat": ("bool",),
}
SAMPLING: dict[str, tuple[str, ...]] = {
    "temperature": ("number",), "top_p": ("number",), "top_k": ("int",), "max_new_tokens": ("int",),
    "n": ("int",), "seed": ("int",), "stop": ("list", "str"),
}
PAIR: dict[str, tuple[str, ...]] = {
    "name": ("str",), "direct": ("str",), "think": ("str",), "base": ("str", "null"), "template_from": ("str",),
}
_ENGINE_KINDS = {int: ("int",), float: ("number",), bool: ("bool",), str: ("str",)}
_WORDS = {"int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
          "list": "a list", "mapping": "a mapping", "null": "null"}


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, (list, tuple))
    return isinstance(value, Mapping)


def check_value(where: str, key: str, value: Any, kinds: tuple[str, ...]) -> None:
    """ValueError unless `value` is one of `kinds`."""
    if not any(_is(value, k) for k in kinds):
        want = " or ".join(_WORDS[k] for k in kinds)
        raise ValueError(f"{where}: {key} must be {want}, got {value!r} ({type(value).__name__})")


def check_keys(where: str, section: str, raw: Mapping, schema: Mapping[str, tuple[str, ...]]) -> None:
    """ValueError naming an unknown key of `section` and the known ones; then each value's type."""
    unknown = sorted(str(k) for k in raw if k not in schema)
    if unknown:
        prefix = f"{section}." if section else ""
        raise ValueError(f"{where}: unknown key {prefix}{unknown[0]}; known keys"
                         f"{' of ' + section if section else ''}: {', '.join(sorted(schema))}")
    for k, v in raw.items():
        check_value(where, f"{section}.{k}" if section else k, v, schema[k])


def _check_items(where: str, key: str, values, kinds: tuple[str, ...]) -> None:
    for i, v in enumerate(values):
        check_value(where, f"{key}[{i}]", v, kinds)


def check_config(raw: Mapping, where: str = "sweep config") -> None:
    """Every key of a sweep config mapping known and of its type, at every depth."""
    check_keys(where, "", raw, _TOP)
    for key, kinds in (("methods", ("str", "mapping")), ("benchmarks", ("str",)), ("lams", ("number",))):
        if isinstance(raw.get(key), (list, tuple)):
            _check_items(where, key, raw[key], kinds)
    methods = raw.get("methods")
    for i, entry in enumerate(methods if isinstance(methods, (list, tuple)) else [methods] if methods else []):
        if isinstance(entry, Mapping):
            check_keys(where, f"methods[{i}]", entry, METHOD_ENTRY)
            if "method" not in entry:
                raise ValueError(f"{where}: methods[{i}] lacks method; an entry is a label or a mapping "
                                 "{method: LABEL, schedule: {...} or FILE, paper_compat: true}")
    if "sampling" in raw:
        check_keys(where, "sampling", raw["sampling"], SAMPLING)
        if isinstance(raw["sampling"].get("stop"), (list, tuple)):
            _check_items(where, "sampling.stop", raw["sampling"]["stop"], ("str",))
    for section, kinds in (("samples", ("int",)), ("data", ("str",))):
        for bench, v in dict(raw.get(section) or {}).items():
            check_value(where, f"{section}.{bench}", v, kinds)
    for k, v in dict(raw.get("engine") or {}).items():
        if k in ENGINE_KEYS:
            check_value(where, f"engine.{k}", v, _ENGINE_KINDS[ENGINE_KEYS[k]])
    entries, label = (raw.get("pairs"), "pairs") if raw.get("pairs") else (raw.get("pair"), "pair")
    many = isinstance(entries, (list, tuple))
    for i, e in enumerate(entries if many else [entries] if entries else []):
        where_e = f"{label}[{i}]" if many else label
        if isinstance(e, Mapping):
            check_keys(where, where_e, e, PAIR)
            missing = [k for k in ("name", "direct", "think") if k not in e]
            if missing:
                raise ValueError(f"{where}: {where_e} lacks {', '.join(missing)}; a pair is a preset name or "
                                 "a mapping with name, direct, think (and base)")
        else:
            check_value(where, where_e, e, ("str", "mapping"))
