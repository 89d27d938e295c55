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
rescalers); an exact global top-k threshold is two (`share_passes`: a histogram that locates
the threshold's bin, then one refining the bin for float32 inputs). A pass may say it is not
`needed` (given the params and the previous result): then it streams nothing.

Statistics whose use depends on lam (`RefinedStats`, e.g. `TopShare`, the share of entries
ranked by |think - direct| over the whole model) are refined on demand: the driver asks
`request(lams)` and, when it answers True, runs the LAST pass again with the stats as its
`previous` (`merging.apply.MethodRun.refine`).

The driver that runs the passes lives with whoever streams the tensors: `run_passes` below
takes a `slices(previous)` callback, so the streaming engine (reading files) and the
in-memory drivers (`sliced`) feed it the same slices and get the same rounding.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
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
    needed: Callable[[dict, Any], bool] | None = None  # (params, previous) -> run it? (None: always)


def additive_pass(collect: Callable[..., dict[str, float]],
                  finish: Callable[[dict[str, float], dict], dict]) -> StatPass:
    """A single pass from a method's `collect(direct, think, base, params, numel)` and
    `finish(sums, params)` (no previous result to read)."""
    return StatPass(lambda d, t, b, params, numel, previous: collect(d, t, b, params, numel),
                    lambda sums, params, previous: finish(sums, params))


def run_passes(passes: Sequence[StatPass], params: dict,
               slices: Callable[[Any], Iterable[Slice]], initial: Any = None) -> Any:
    """Run the passes in order; `slices(previous)` yields every float tensor's slices once per
    pass (or one tensor's, for per-tensor passes). `initial` is what the first pass sees as
    `previous`. Returns the last pass's result (`initial` when no pass ran: None for a method
    without model-wide passes)."""
    result = initial
    for stat in passes:
        if stat.needed is not None and not stat.needed(params, result):
            continue
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


class RefinedStats:
    """Model-wide statistics that some lam values need refined by one more streaming pass."""

    def request(self, lams: Iterable[float]) -> bool:
        """Note that `lams` will be asked for; True when the last pass must run again first."""
        raise NotImplementedError

    def describe(self) -> dict:
        """A JSON-able summary (for provenance)."""
        raise NotImplementedError


def abs_diff_bits(direct: Tensor, think: Tensor) -> Tensor:
    """|think - direct| computed in the parents' own (promoted) dtype, as the paper's code does
    it, as the int32 bit patterns of its float32 value: non-negative, so integer order is value
    order (NaN, only with allow_nonfinite, sorts above inf). Shape of the inputs, flattened."""
    dt = torch.promote_types(direct.dtype, think.dtype)
    diff = (think.to(dt) - direct.to(dt)).abs().reshape(-1)
    return diff.to(torch.float32).contiguous().view(torch.int32)


_HI = 1 << 15  # high 16 bits of a non-negative float32: 0 .. 0x7FFF
_LO = 1 << 16


def share_position(lam: float, n: int, select: str, counting: str) -> int | None:
    """Rank (1-based, in ascending |difference|) of the threshold entry of a lam share of n
    entries, or None for none. counting="round": k = round(lam * n), the k-th largest (select=
    largest) or k-th smallest (smallest); entries tied with it are all kept. counting="paper":
    the paper's code, num = int(n * lam), then torch.kthvalue at max(1, n - num) (largest: so
    num + 1 entries at least, and one even at lam = 0) or at num (smallest; num = 0, where its
    kthvalue would fail, keeps none)."""
    if counting == "paper":
        num = int(n * lam)
        if select == "largest":
            return max(1, n - num)
        return min(num, n) or None
    k = min(int(round(lam * n)), n)
    if k <= 0:
        return None
    return n - k + 1 if select == "largest" else k


class TopShare(RefinedStats):
    """The exact ascending-rank select over |think - direct| of the whole model, from a
    histogram of the high 16 bits of each entry's float32 bits (exact for bf16 parents, whose
    values fill only those bits) and, for the bins where a requested rank falls when some entry
    has low bits set (float16/float32 parents), a histogram of the low 16 bits of that bin."""

    def __init__(self, hist: Tensor, fine_needed: bool, select: str, counting: str):
        self.cum = hist.to("cpu", torch.int64).cumsum(0)  # (32768,) entries with high bits <= b
        self.total = int(self.cum[-1])
        self.fine_needed = fine_needed
        self.select, self.counting = select, counting
        self.fine: dict[int, Tensor] = {}  # bin -> (65536,) cumulative counts of the low bits
        self.pending: set[int] = set()
        self._cache: dict[float, int | None] = {}

    def _locate(self, pos: int) -> tuple[int, int]:
        b = int(torch.searchsorted(self.cum, torch.tensor(pos), right=False))
        below = int(self.cum[b - 1]) if b > 0 else 0
        return b, pos - below

    def request(self, lams: Iterable[float]) -> bool:
        if self.fine_needed:
            for lam in lams:
                pos = share_position(float(lam), self.total, self.select, self.counting)
                if pos is not None:
                    b, _ = self._locate(pos)
                    if b not in self.fine:
                        self.pending.add(b)
        return bool(self.pending)

    def threshold(self, lam: float) -> int | None:
        """The float32 bit pattern of the threshold entry's |difference| at share lam (None: no
        entry kept)."""
        if lam in self._cache:
            return self._cache[lam]
        pos = share_position(lam, self.total, self.select, self.counting)
        value = None
        if pos is not None:
            b, rem = self._locate(pos)
            value = b << 16
            if self.fine_needed:
                if b not in self.fine:
                    raise RuntimeError(f"lam={lam}: threshold bin {b} not refined; call request([lam]) "
                                       "and run the refining pass first")
                value |= int(torch.searchsorted(self.fine[b], torch.tensor(rem), right=False))
        self._cache[lam] = value
        return value

    def absorb(self, fine_hist: Tensor, bins: list[int]) -> None:
        for i, b in enumerate(bins):
            self.fine[b] = fine_hist[i].to("cpu", torch.int64).cumsum(0)
        self.pending.clear()

    def describe(self) -> dict:
        return {"entries": self.total, "select": self.select, "counting": self.counting,
                "exact_from_high_bits": not self.fine_needed, "refined_bins": len(self.fine)}


def share_passes(select: Callable[[dict], str], counting: Callable[[dict], str],
                 when: Callable[[dict], bool]) -> tuple[StatPass, StatPass]:
    """The two passes of a model-wide `TopShare`; `select(params)`, `counting(params)` read the
    method's parameters, `when(params)` says whether the model-wide select is wanted at all."""

    def collect_hist(d, t, b, params, numel, previous):
        bits = abs_diff_bits(d, t)
        return {"hist": torch.bincount(bits >> 16, minlength=_HI).to(torch.float64),
                "fine": float(((bits & (_LO - 1)) != 0).sum())}

    def finish_hist(sums, params, previous):
        hist = sums.get("hist", torch.zeros(_HI, dtype=torch.float64))
        return TopShare(hist, sums.get("fine", 0.0) > 0, select(params), counting(params))

    def collect_fine(d, t, b, params, numel, previous: TopShare):
        bits = abs_diff_bits(d, t)
        bins = torch.tensor(sorted(previous.pending), dtype=torch.int32, device=bits.device)
        hi, lo = bits >> 16, bits & (_LO - 1)
        idx = torch.searchsorted(bins, hi).clamp_max(len(bins) - 1)
        hit = bins[idx] == hi
        flat = idx[hit].to(torch.int64) * _LO + lo[hit]
        return {"fine": torch.bincount(flat, minlength=len(bins) * _LO).to(torch.float64)}

    def finish_fine(sums, params, previous: TopShare):
        bins = sorted(previous.pending)
        previous.absorb(sums["fine"].reshape(len(bins), _LO), bins)
        return previous

    return (StatPass(collect_hist, finish_hist, needed=lambda params, previous: when(params)),
            StatPass(collect_fine, finish_fine,
                     needed=lambda params, previous: isinstance(previous, TopShare) and bool(previous.pending)))
