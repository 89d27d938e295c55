"""Model-wide statistics: numbers a method needs from EVERY tensor before it merges any.

A method declares them as a sequence of streaming passes (`MethodSpec.statistics`, or for
the plain additive case its `collect`/`finish` pair, which `spec.model_statistics` wraps):

    StatPass(collect(direct, think, base, params, numel, previous) -> {key: part},
             finish(sums, params, previous) -> result)

Each pass visits every float tensor in flat slices (of at most CHUNK_ELEMS elements, in the
thinking parent's order); the parts are summed key by key in that order (`float` parts, or
tensors of one shape, e.g. a histogram of |think - direct| over the 65,536 bf16 values);
`finish` turns the sums into the pass's result, handed to the next pass as `previous`. The
last result is the `stats` every `prepare` receives. EMR is one pass of float sums (its
rescalers); an exact global top-k threshold is two (a histogram that locates the threshold's
bin, then one refining the bin for float32 inputs).

The driver that runs the passes lives with whoever streams the tensors: `run_passes` below
takes a `slices(previous)` callback, so the streaming engine (reading files) and the
in-memory drivers (`sliced`) feed it the same slices and get the same rounding.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

# Why 2**20 elements (2 MiB in bf16): on the bench (two 0.6B-shaped bf16 parents, 2 cores)
# 2**18 cost ~15% more in thread hand-offs, and 2**21 was no faster; memory stays ~40 MiB.
# Model-wide sums are taken over slices of this size (the engine and the in-memory drivers
# alike), so it fixes their rounding.
CHUNK_ELEMS = 1 << 20

Slice = tuple[Tensor, Tensor, "Tensor | None", int]  # (direct, think, base or None, whole tensor's numel)


@dataclass(frozen=True)
class StatPass:
    """One streaming pass over every float tensor of the parents."""

    collect: Callable[..., dict[str, Any]]  # (direct, think, base, params, numel, previous) -> parts
    finish: Callable[[dict[str, Any], dict, Any], Any]  # (sums, params, previous) -> result


def additive_pass(collect: Callable[..., dict[str, float]],
                  finish: Callable[[dict[str, float], dict], dict]) -> StatPass:
    """A single pass from a method's `collect(direct, think, base, params, numel)` and
    `finish(sums, params)` (no previous result to read)."""
    return StatPass(lambda d, t, b, params, numel, previous: collect(d, t, b, params, numel),
                    lambda sums, params, previous: finish(sums, params))


def run_passes(passes: Sequence[StatPass], params: dict,
               slices: Callable[[Any], Iterable[Slice]], start: Any = None) -> Any:
    """Run the passes in order; `slices(previous)` yields every float tensor's slices once per
    pass (or one tensor's, for per-tensor passes). The first pass sees `start` as `previous`.
    Returns the last pass's result (`start` when there are no passes)."""
    result = start
    for stat in passes:
        sums: dict[str, Any] = {}
        feed = iter(slices(result))
        try:
            for d, t, b, numel in feed:
                for key, value in stat.collect(d, t, b, params, numel, result).items():
                    sums[key] = sums.get(key, 0.0) + value
        finally:  # a streaming feed stops its reader threads now, even on error
            close = getattr(feed, "close", None)
            if close is not None:
                close()
        result = stat.finish(sums, params, result)
    return result


def sliced(names: Iterable[str], inputs: Callable[[str], tuple[Tensor, Tensor, Tensor | None]],
           chunk: int | None = None) -> Iterator[Slice]:
    """The flat slices of tensors held in memory, cut as the streaming engine cuts them.
    `inputs(name)` gives (direct, think, base-or-None); `chunk` defaults to CHUNK_ELEMS as
    it is when called."""
    step = CHUNK_ELEMS if chunk is None else chunk
    for name in names:
        tensors = inputs(name)
        numel = tensors[0].numel()
        for a in range(0, numel, step):
            d, t, b = (None if x is None else x.reshape(-1)[a:a + step] for x in tensors)
            yield d, t, b, numel
