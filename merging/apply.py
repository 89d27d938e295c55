"""The one per-tensor merge driver: a method at fixed parameters and seed, tensor by tensor.

    run = MethodRun("ties", {"density": 0.2}, seed=0, has_base=True)
    run.gather(slices)                        # whole-model statistics, when the method has any
    state = run.prepare(name, direct, think, base)   # lam-independent, once per tensor
    run.into(state, name, lam, out)           # theta(lam) rounded into out's dtype

Every driver of a merge goes through it: the streaming engine (`merging.engine`, parents read
from files slice by slice), the in-place merger (`merging.inplace`, into a live model) and
the tensor feed (`merging.feed`, for engines such as vLLM that map the names themselves);
`TensorStates` is the in-memory half the last two share. So state preparation, the
per-tensor generator (seeded by (seed, tensor name)), the model-wide statistics pass
(`merging.statistics`: EMR's rescalers today; any method declaring `statistics` passes
tomorrow) and the strength given to `at` are written once.

Strength: `into` asks `strength(name, lam)` for the lam of each tensor; the default is lam
itself. A per-tensor schedule (a mapping from name patterns to strengths, a per-layer
curve) is such a function, passed as `MethodRun(..., strength=...)`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from merging.parents import ParentTensors
from merging.registry import MethodSpec, get_method
from merging.statistics import Slice, run_passes, sliced
from merging.steps import tensor_generator

Strength = Callable[[str, float], float]  # (tensor name, the point's lam) -> that tensor's lam


def uniform(name: str, lam: float) -> float:
    """The same lam for every tensor."""
    return lam


def check_base(spec: MethodSpec, has_base: bool, where: str) -> None:
    """A method that needs a base gets one; one that does not gets none. `where` names the
    base in the caller's own words ("base= (--base)")."""
    if spec.needs_base and not has_base:
        raise ValueError(f"method {spec.name!r} needs a base model: pass {where}")
    if not spec.needs_base and has_base:
        raise ValueError(f"method {spec.name!r} does not use a base model: drop {where}")


class MethodRun:
    """One method, its validated parameters, its seed, its statistics and its strength."""

    def __init__(self, method: str, params: Mapping | Iterable[str] | None = None, *, seed: int = 0,
                 has_base: bool, where: str = "base=", strength: Strength | None = None):
        self.spec = get_method(method)
        self.params = self.spec.validate_params(params)
        check_base(self.spec, has_base, where)
        self.seed = seed
        self.strength = strength or uniform
        self.stats: Any = None

    @property
    def needs_stats(self) -> bool:
        return bool(self.spec.model_statistics)

    def gather(self, slices: Callable[[Any], Iterable[Slice]]) -> Any:
        """Run the method's model-wide passes over `slices(previous)` (every float tensor, in
        order, in flat slices) and keep the result for `prepare`. None without passes."""
        self.stats = run_passes(self.spec.model_statistics, self.params, slices)
        return self.stats

    def generator(self, name: str) -> torch.Generator:
        return tensor_generator(self.seed, name)

    def prepare(self, name: str, direct: Tensor, think: Tensor, base: Tensor | None,
                gen: torch.Generator | None = None) -> Any:
        """The lam-independent state of tensor `name` (or of one slice of it: then pass the
        generator that the tensor's first slice used, so the draws continue)."""
        return self.spec.prepare(direct, think, base, self.params,
                                 gen if gen is not None else self.generator(name), self.stats)

    def into(self, state: Any, name: str, lam: float, out: Tensor) -> None:
        """theta(strength(name, lam)) of one tensor (or slice) into `out`, rounded to its dtype."""
        self.spec.into(state, self.strength(name, lam), out)

    def diagnose(self, state: Any, sums: dict[str, float]) -> None:
        """Add this state's diagnostic figures into `sums`."""
        if self.spec.diagnose is not None:
            for key, value in self.spec.diagnose(state).items():
                sums[key] = sums.get(key, 0.0) + value

    def summary(self, sums: dict[str, float]) -> dict[str, float]:
        """The method's summary figures from the summed diagnostics."""
        return self.spec.summarize(sums) if self.spec.summarize is not None and sums else sums


class TensorStates:
    """Prepared states of in-memory parents: the model-wide statistics over the same flat
    slices as the streaming engine's (so the same rounding), then one state per float tensor,
    kept (`cache=True`) or recomputed on every request."""

    def __init__(self, run: MethodRun, parents: ParentTensors, names: Sequence[str] | None = None,
                 cache: bool = False):
        self.run, self.parents, self.cache = run, parents, cache
        self.names = parents.floats() if names is None else list(names)
        if run.needs_stats:
            run.gather(lambda previous: sliced(self.names, parents.inputs))
        self._states: dict[str, Any] = {}

    def prepare_all(self) -> None:
        for name in self.names:
            self.state(name)

    def state(self, name: str) -> Any:
        if name in self._states:
            return self._states[name]
        state = self.run.prepare(name, *self.parents.inputs(name))
        if self.cache:
            self._states[name] = state
        return state

    def diagnostics(self) -> dict[str, float]:
        """The method's summary figures over every float tensor (e.g. SLERP's fallback fraction)."""
        if self.run.spec.diagnose is None:
            return {}
        sums: dict[str, float] = {}
        for name in self.names:
            self.run.diagnose(self.state(name), sums)
        return self.run.spec.summarize(sums) if self.run.spec.summarize is not None else sums
