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

Paper compatibility (`paper_compat=True`, off by default): the method reproduces the paper's
code where it differs (each method's docstring says how). On a tied model (lm_head tied to
embed_tokens, as Qwen3-4B) the paper's loops over `state_dict()` visit the embedding twice
(once as `model.embed_tokens.weight`, once as `lm_head.weight`, the same tensor): under
paper_compat each name in `tied` is visited twice in the model-wide statistics (its slices
are fed twice) and its `prepare` sees `params["visits"] == 2` (TIES adds its merged task
vector twice, as the paper's in-place `+=` does). Every `prepare`/statistics pass receives
the validated params plus `paper_compat` (bool). `tied_embeddings` finds the tied names.

Strength: `into` asks `strength(name, lam)` for the lam of each tensor; the default is lam
itself. A per-tensor schedule (a mapping from name patterns to strengths, a per-layer
curve) is such a function, passed as `MethodRun(..., strength=...)`.

Per-tensor statistics (`spec.tensor_passes`) run over one tensor's slices before it is
prepared: the streaming engine feeds them the slices it reads; for tensors held in memory
`prepare` cuts the same slices itself (`pieces`), so every driver gets the same bits.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from torch import Tensor

from merging import statistics
from merging.parents import ParentTensors
from merging.registry import MethodSpec, get_method
from merging.statistics import RefinedStats, Slice, run_passes, sliced
from merging.steps import tensor_generator

Strength = Callable[[str, float], float]  # (tensor name, the point's lam) -> that tensor's lam


def uniform(name: str, lam: float) -> float:
    """The same lam for every tensor."""
    return lam


class TensorStart(NamedTuple):
    """What a tensor's first per-tensor pass sees as `previous`."""

    shape: tuple[int, ...]
    numel: int
    stats: Any  # the model-wide statistics (None without)
    gen: Any  # the tensor's random streams, fresh (spec.streams, or its generator)
    lams: frozenset = frozenset()  # the strengths the driver has asked for so far (`refine`)


def pieces(numel: int, unit: int | None, chunk: int | None = None) -> list[tuple[int, int | None]]:
    """The (first, stop) element ranges a tensor is cut into: at most `chunk` elements
    (default: merging.statistics.CHUNK_ELEMS as it is when called), a multiple of `unit`
    (one unit when it is larger; None: the whole tensor, stop None)."""
    chunk = statistics.CHUNK_ELEMS if chunk is None else chunk
    if unit is None or numel <= chunk:
        return [(0, None)]
    step = max(1, chunk // unit) * unit
    return [(a, min(a + step, numel)) for a in range(0, numel, step)]


_UNSET = object()


def check_base(spec: MethodSpec, has_base: bool, where: str) -> None:
    """A method that needs a base gets one; one that does not gets none. `where` names the
    base in the caller's own words ("base= (--base)")."""
    if spec.needs_base and not has_base:
        raise ValueError(f"method {spec.name!r} needs a base model: pass {where}")
    if not spec.needs_base and has_base:
        raise ValueError(f"method {spec.name!r} does not use a base model: drop {where}")


def tied_embeddings(names: Sequence[str], config: Mapping | None = None) -> tuple[str, ...]:
    """The embedding names that a tied model's `state_dict()` also lists as `lm_head.weight`:
    the checkpoint stores no `lm_head.weight` and its config does not say untied."""
    if "lm_head.weight" in names or (config is not None and config.get("tie_word_embeddings") is False):
        return ()
    return tuple(n for n in names if n.endswith("embed_tokens.weight"))


class MethodRun:
    """One method, its validated parameters, its seed, its statistics and its strength."""

    def __init__(self, method: str, params: Mapping | Iterable[str] | None = None, *, seed: int = 0,
                 has_base: bool, where: str = "base=", strength: Strength | None = None,
                 paper_compat: bool = False, tied: Iterable[str] = ()):
        self.spec = get_method(method)
        self.params = self.spec.validate_params(params)
        check_base(self.spec, has_base, where)
        self.seed = seed
        self.strength = strength or uniform
        self.paper_compat = bool(paper_compat)
        self.tied = tuple(tied)
        self.call_params = {**self.params, "paper_compat": self.paper_compat}
        self.stats: Any = None
        self.requested: set[float] = set()  # every strength `refine` was asked for
        self._slices: Callable[[Any], Iterable[Slice]] | None = None

    @property
    def needs_stats(self) -> bool:
        passes = self.spec.model_statistics
        return bool(passes) and (passes[0].needed is None or passes[0].needed(self.call_params, None))

    @property
    def elementwise(self) -> bool:
        """Whether prepare/at may be fed flat slices at these parameters."""
        return self.spec.is_elementwise(self.params)

    def visits(self, name: str) -> int:
        """How often the paper's state-dict loop visits `name` (2 for a tied embedding under
        paper_compat, else 1)."""
        return 2 if self.paper_compat and name in self.tied else 1

    def visit_order(self, names: Iterable[str]) -> list[str]:
        """`names` with each repeated `visits(name)` times: the statistics passes' order."""
        return [n for n in names for _ in range(self.visits(n))]

    def gather(self, slices: Callable[[Any], Iterable[Slice]]) -> Any:
        """Run the method's model-wide passes over `slices(previous)` (every float tensor, in
        order, in flat slices, a tensor fed `visits(name)` times) and keep the result for
        `prepare`; `slices` is kept for `refine`. None without passes."""
        self._slices = slices
        self.stats = run_passes(self.spec.model_statistics, self.call_params, slices)
        return self.stats

    def refine(self, lams: Iterable[float], names: Iterable[str] | None = None) -> None:
        """Make lam-dependent statistics exact for `lams` (as each of `names` sees them through
        `strength`), running the last pass again when they ask for it. The strengths are kept
        for lam-dependent per-tensor statistics (`TensorStart.lams`)."""
        wanted = set(lams) if names is None else {self.strength(n, lam) for n in names for lam in lams}
        self.requested |= wanted
        if not isinstance(self.stats, RefinedStats):
            return
        if self.stats.request(wanted):
            self.stats = run_passes(self.spec.model_statistics[-1:], self.call_params, self._slices,
                                    initial=self.stats)

    def stats_record(self) -> Any:
        """The statistics as provenance records them (JSON-able)."""
        return self.stats.describe() if isinstance(self.stats, RefinedStats) else self.stats

    def tensor_params(self, name: str) -> dict:
        """What `prepare` and the per-tensor passes of `name` receive: the validated params,
        `paper_compat`, and `visits` when the paper's loop visits `name` twice."""
        visits = self.visits(name)
        return self.call_params if visits == 1 else {**self.call_params, "visits": visits}

    def generator(self, name: str, numel: int) -> Any:
        """The random streams of tensor `name` (of `numel` elements), fresh: its generator,
        seeded by (seed, name), as the method's `streams` shapes it."""
        gen = tensor_generator(self.seed, name)
        return gen if self.spec.streams is None else self.spec.streams(gen, numel, self.call_params)

    def unit(self, shape: Sequence[int]) -> int | None:
        return self.spec.unit(tuple(shape), self.call_params)

    def tensor_passes(self, shape: Sequence[int]) -> tuple:
        return self.spec.tensor_passes(self.call_params, tuple(shape))

    def tensor_stats(self, name: str, shape: Sequence[int], slices: Callable[[Any], Iterable[Slice]]) -> Any:
        """The per-tensor statistics of `name` from `slices(previous)` (its slices, in order,
        once per pass); the model-wide statistics when the method has none for this shape."""
        passes = self.tensor_passes(shape)
        if not passes:
            return self.stats
        numel = math.prod(shape)
        return run_passes(passes, self.tensor_params(name), slices,
                          TensorStart(tuple(shape), numel, self.stats, self.generator(name, numel),
                                      frozenset(self.requested)))

    def prepare(self, name: str, direct: Tensor, think: Tensor, base: Tensor | None,
                gen: Any = None, stats: Any = _UNSET) -> Any:
        """The lam-independent state of tensor `name` (or of one slice of it: then pass the
        streams the tensor's first slice used, so the draws continue, and its `stats` from
        `tensor_stats`). Without `stats`, `direct` etc. are the whole tensor and its per-tensor
        statistics are taken here, over the slices the streaming engine would cut."""
        if stats is _UNSET:
            shape, numel = tuple(direct.shape), direct.numel()
            ranges = pieces(numel, self.unit(shape))

            def slices(previous):
                for a, b in ranges:
                    yield (*(None if x is None else x.reshape(-1)[a:b] for x in (direct, think, base)), numel)

            stats = self.tensor_stats(name, shape, slices)
        if gen is None:
            gen = self.generator(name, direct.numel())
        return self.spec.prepare(direct, think, base, self.tensor_params(name), gen, stats)

    def into(self, state: Any, name: str, lam: float, out: Tensor) -> None:
        """theta(strength(name, lam)) of one tensor (or slice) into `out`, rounded to its dtype."""
        lam = self.strength(name, lam)
        self.refine([lam])
        self.spec.into(state, lam, out)

    def diagnose(self, state: Any, sums: dict[str, float]) -> None:
        """Add this state's diagnostic figures into `sums`."""
        if self.spec.diagnose is not None:
            for key, value in self.spec.diagnose(state).items():
                sums[key] = sums.get(key, 0.0) + value

    def summary(self, sums: dict[str, float]) -> dict[str, float]:
        """The method's summary figures from the summed diagnostics."""
        return self.spec.summarize(sums) if self.spec.summarize is not None and sums else sums


class StreamsAhead:
    """The random streams of tensors `names` (each of `numels[name]` entries), in that order,
    each made on a worker thread while the tensor before it is merged: a method whose streams
    draw up front (DARE's direct mask, merging.draws) then overlaps those draws with the merge.
    The streams are seeded by (seed, name) alone, so they are the same bits, made here or not.
    At most one tensor's streams wait ahead."""

    def __init__(self, run: MethodRun, names: Sequence[str], numels: Mapping[str, int]):
        from concurrent.futures import ThreadPoolExecutor

        self.run, self.names, self.numels = run, list(names), numels
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="streams")
        self.ahead: dict[str, Any] = {}
        self.next = 0
        self._submit()

    def _submit(self) -> None:
        if self.next < len(self.names):
            name = self.names[self.next]
            self.ahead[name] = self.pool.submit(self.run.generator, name, self.numels[name])
            self.next += 1

    def get(self, name: str) -> Any:
        """`run.generator(name, numel)`, and the next tensor's streams started."""
        future = self.ahead.pop(name, None)
        if future is None:  # out of the expected order: made here
            return self.run.generator(name, self.numels[name])
        gen = future.result()
        self._submit()
        return gen

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class TensorStates:
    """Prepared states of in-memory parents: the model-wide statistics over the same flat
    slices as the streaming engine's (so the same rounding), then one state per float tensor,
    kept (`cache=True`) or recomputed on every request."""

    def __init__(self, run: MethodRun, parents: ParentTensors, names: Sequence[str] | None = None,
                 cache: bool = False):
        self.run, self.parents, self.cache = run, parents, cache
        self.names = parents.floats() if names is None else list(names)
        if run.needs_stats:
            run.gather(lambda previous: sliced(run.visit_order(self.names), parents.inputs))
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
