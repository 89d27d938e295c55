"""Method labels, read in one place: 'ties(density=0.2)' names a registry method and its
parameters. The sweep validates labels against the merge registry (`parse_method_label`);
the analysis reads the name and numeric parameters of any label, also of an outside table's
(`method_base`, `method_params`), and asks `is_sparse` which curves the sparse-degradation
claim judges.
"""
from __future__ import annotations

import re

from merging import registry

_PARAM = re.compile(r"([A-Za-z_]\w*)\s*=\s*([-+0-9.eE]+)")


def parse_method_label(label: str) -> tuple[str, dict]:
    """'ties(density=0.2)' -> ('ties', {'density': 0.2}), validated against the registry."""
    name, _, rest = label.partition("(")
    name = name.strip()
    items: list[str] = []
    if rest:
        if not rest.endswith(")"):
            raise ValueError(f"method label {label!r}: expected NAME or NAME(k=v, ...)")
        items = [s.strip() for s in rest[:-1].split(",") if s.strip()]
    return name, registry.get_method(name).validate_params(items)


def method_base(label: str) -> str:
    """'dare(p=0.9)' -> 'dare'; 'Linear' -> 'linear'."""
    return label.split("(", 1)[0].strip().lower()


def method_params(label: str) -> dict[str, float]:
    """Numeric parameters written in a label: 'ties(density=0.2)' -> {'density': 0.2}."""
    inner = label.split("(", 1)[1] if "(" in label else ""
    return {k: float(v) for k, v in _PARAM.findall(inner)}


def is_sparse(label: str) -> bool:
    """Whether the method of `label` drops entries at its parameters, as the merge registry's
    method spec declares it (`MethodSpec.is_sparse`: DARE when p > 0, TIES when density < 1;
    a parameter the label leaves out takes the registry's default, so bare `ties` at density 1
    is dense). A label naming no registered method (an outside table's) is dense."""
    base = method_base(label)
    if base not in registry.list_methods():
        return False
    return registry.get_method(base).is_sparse(method_params(label))


def method_family(label: str) -> str:
    """'sparse' when `is_sparse(label)`, else 'dense'."""
    return "sparse" if is_sparse(label) else "dense"
