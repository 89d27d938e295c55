"""The one registry of merge methods.

Each operator module (listed in `_BUILTIN_MODULES`, imported lazily) calls `register` once
with a frozen `MethodSpec`; a duplicate name is refused. A spec carries the method's
parameters (`ParamSpec`: default, type, help) and its two pure functions:

    prepare(direct, think, base, params, gen, stats) -> state   # lam-independent, once per tensor
    at(state, lam) -> Tensor                                     # float32, cheap, once per lam

`lam` is the weight of the THINKING parent (0 = direct, 1 = thinking). Methods that need
whole-model statistics declare them: `collect` (additive per-tensor sums) and `finish`
(sums -> the `stats` handed to every `prepare`) for one pass of sums (EMR), or `statistics`,
a sequence of `merging.statistics.StatPass` for anything more (several passes, tensor-valued
sums such as a histogram); `spec.model_statistics` gives the passes either way.
`elementwise=True` promises that `prepare` and `at` act element by element given `stats`,
so a caller may feed flat slices of a tensor (`elementwise_when(params)`, when given, decides
it per parameters instead: `spec.is_elementwise(params)`). `prepare` and the statistics passes
(model-wide and per-tensor) receive the validated params plus `paper_compat` (and `visits`
for a tied embedding, see `merging.apply`).

Per-tensor statistics (bounded memory whatever the tensor's size): `tensor_statistics(params,
shape)` gives StatPasses over ONE tensor's slices, run before that tensor is prepared (TIES'
and Twin's top-k thresholds, SLERP's dot and norms, LoRE's Gram matrix); the first sees a
`merging.apply.TensorStart` as `previous`, and the last result is the `stats` its `prepare`
receives. `slice_unit(shape, params)` is the element count a slice must be a multiple of
(a row, for LoRE's matrix products; None: the tensor whole; default 1 for elementwise
methods, else None). `streams(gen, numel, params)` turns the tensor's generator into what
`prepare` gets as `gen` for every slice (DARE: one stream per parent, so its draws are the
same whatever the slicing). `sparse(params)` says whether the method, at
those parameters, zeroes entries of what it merges (`spec.is_sparse(params)`).

Two optional speed-ups: `at_into(state, lam, out)` writes at(state, lam) rounded to out's
dtype straight into `out` (bit-identical to `out.copy_(at(state, lam))`; callers use
`spec.into`), and `upcast=False` tells the engine to hand `prepare` the parents' tensors in
their stored dtype rather than float32 copies (the method upcasts where it computes).
`revision` counts changes to the bits a method produces (stored evaluation results are keyed
by it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from merging.named_registry import NamedRegistry
from merging.statistics import StatPass, additive_pass

# Filled in one place: every built-in operator module, one method each.
_BUILTIN_MODULES = [
    "merging.methods.linear",
    "merging.methods.slerp",
    "merging.methods.task_arithmetic",
    "merging.methods.dare",
    "merging.methods.ties",
    "merging.methods.emr",
    "merging.methods.lore",
    "merging.methods.twin",
    "merging.methods.surgical",
    "merging.methods.override",
    "merging.methods.keep_direct",
    "merging.methods.dare_ties",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ParamSpec:
    """One method parameter. `check` returns an error text for a bad value, or None."""

    default: Any
    type: type
    help: str
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None

    def convert(self, value: Any) -> Any:
        """Accept a value of the right type, or its text form ("0.2", "true")."""
        if isinstance(value, str):
            text = value.strip()
            if self.type is bool:
                if text.lower() in _TRUE | _FALSE:
                    return text.lower() in _TRUE
                raise ValueError(f"expected true or false, got {value!r}")
            return self.type(text)
        if self.type is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, self.type) and (self.type is bool or not isinstance(value, bool)):
            return value
        raise ValueError(f"expected {self.type.__name__}, got {value!r}")


@dataclass(frozen=True)
class MethodSpec:
    name: str
    needs_base: bool
    params: Mapping[str, ParamSpec]
    paper: str
    description: str
    prepare: Callable[..., Any]
    at: Callable[[Any, float], Any]
    elementwise: bool = False
    elementwise_when: Callable[[dict], bool] | None = None
    collect: Callable[..., dict[str, float]] | None = None
    finish: Callable[[dict[str, float], dict], dict] | None = None
    diagnose: Callable[[Any], dict[str, float]] | None = None
    summarize: Callable[[dict[str, float]], dict[str, float]] | None = None
    at_into: Callable[[Any, float, Any], None] | None = None
    upcast: bool = True
    statistics: tuple[StatPass, ...] = ()
    # whether, at the given (validated) parameters, the method drops or trims entries of the
    # task vectors it merges; None: never (evals' sparse-method claims read this)
    sparse: Callable[[dict], bool] | None = None
    tensor_statistics: Callable[[dict, tuple], tuple[StatPass, ...]] | None = None
    slice_unit: Callable[[tuple, dict], int | None] | None = None
    streams: Callable[[Any, int, dict], Any] | None = None
    # bumped whenever a change alters the bits a method produces; results keyed by merge
    # (evals.sweep.merge_fingerprint) include it, so stale points are recomputed, not reused
    revision: int = 1

    def into(self, state: Any, lam: float, out: Any) -> None:
        """Write theta(lam) for one tensor (or slice) into `out`, rounded to out's dtype."""
        if self.at_into is not None:
            self.at_into(state, lam, out)
        else:
            out.copy_(self.at(state, lam).reshape(out.shape))

    def tensor_passes(self, params: dict, shape: tuple) -> tuple[StatPass, ...]:
        """The passes over one tensor (of `shape`) before it is prepared (empty: none)."""
        return tuple(self.tensor_statistics(params, tuple(shape))) if self.tensor_statistics else ()

    def unit(self, shape: tuple, params: dict) -> int | None:
        """Slices of a tensor of `shape` hold a multiple of this many elements (None: whole)."""
        if self.slice_unit is not None:
            return self.slice_unit(tuple(shape), params)
        return 1 if self.is_elementwise(params) else None

    @property
    def model_statistics(self) -> tuple[StatPass, ...]:
        """The streaming passes over the whole model this method needs before `prepare`
        (empty: none)."""
        if self.statistics:
            return tuple(self.statistics)
        if self.collect is not None:
            return (additive_pass(self.collect, self.finish),)
        return ()

    def is_elementwise(self, params: Mapping[str, Any]) -> bool:
        """Whether `prepare`/`at` act element by element at these (validated) parameters."""
        return self.elementwise if self.elementwise_when is None else bool(self.elementwise_when(params))

    def is_sparse(self, params: Mapping[str, Any] | Iterable[str] | None = None) -> bool:
        """Whether this method at `params` (validated, defaults filled) is a sparse merge."""
        return self.sparse is not None and bool(self.sparse(self.validate_params(params)))

    def validate_params(self, params: Mapping[str, Any] | Iterable[str] | None = None) -> dict:
        """Fill defaults and convert values; accepts a mapping or "k=v" strings.

        Raises ValueError naming the method, the parameter and the valid choices.
        """
        given: dict[str, Any] = {}
        if params is None:
            params = {}
        if isinstance(params, Mapping):
            given = dict(params)
        else:
            for item in params:
                if not isinstance(item, str) or "=" not in item:
                    raise ValueError(
                        f"method {self.name!r}: parameter {item!r} is not of the form k=v "
                        f"(valid: {self._valid()})"
                    )
                key, value = item.split("=", 1)
                key = key.strip()
                if key in given:
                    raise ValueError(
                        f"method {self.name!r}: parameter {key!r} is given twice "
                        f"({key}={given[key]!s}, {key}={value.strip()}); give it once"
                    )
                given[key] = value
        out: dict[str, Any] = {}
        for key in given:
            if key not in self.params:
                raise ValueError(
                    f"method {self.name!r} has no parameter {key!r}; valid: {self._valid()}"
                )
        for key, spec in self.params.items():
            if key not in given:
                out[key] = spec.default
                continue
            try:
                value = spec.convert(given[key])
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"method {self.name!r}: bad value for {key!r}: {exc} ({spec.help})"
                ) from None
            if spec.choices is not None and value not in spec.choices:
                raise ValueError(
                    f"method {self.name!r}: {key}={value!r} is not one of {list(spec.choices)}"
                )
            problem = spec.check(value) if spec.check is not None else None
            if problem:
                raise ValueError(f"method {self.name!r}: {key}={value!r}: {problem}")
            out[key] = value
        return out

    def _valid(self) -> str:
        return ", ".join(f"{k} (default {p.default!r})" for k, p in self.params.items()) or "none"


_METHODS: NamedRegistry[MethodSpec] = NamedRegistry("merge method", _BUILTIN_MODULES)


def register(spec: MethodSpec) -> MethodSpec:
    return _METHODS.register(spec)


def get_method(name: str) -> MethodSpec:
    return _METHODS.get(name)


def list_methods() -> list[str]:
    """Method names in registration order (the order of _BUILTIN_MODULES)."""
    return _METHODS.names()
