"""DARE's keep masks: which entries of a task vector survive, from a tensor's generator.

A tensor of n entries draws one float32 uniform per entry from its generator (torch.rand's
draws, made on the CPU): the direct parent's mask from the first n draws, the thinking
parent's from the next n, an entry kept when its draw is >= p. The streaming engine merges
the tensor slice by slice, so both masks are needed slice after slice: `PackedKeep` draws the
direct mask up front and holds it one bit per entry (n / 8 bytes), which leaves the generator
just after it, so the thinking mask continues from the generator itself. (Before: a copy of
the generator skipped n draws ahead, a third of all of DARE's draws, and draws are the
costliest step of its merge: torch's CPU generator is serial, ~2 ns a draw.)

    direct, think = PackedKeep(gen, n, p), gen
    keep_mask((rows, cols), p, direct)  # float 0/1, the next rows * cols entries of each
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

# row u: the 8 bits of the byte u, lowest first, as float 0/1
_BITS = ((torch.arange(256).unsqueeze(1) >> torch.arange(8)) & 1).to(torch.float32)
# 8 bytes of 0/1 read as one little-endian int64, times this: byte j lands on bit 56 + j, and
# no other product reaches bits 56-63 (their positions 56 + 8j - 7i are distinct, no carries)
_PACK = 0x0102040810204080
DRAW_CHUNK = 1 << 20  # draws made at a time (a multiple of 8)


class PackedKeep:
    """The keep mask (draw >= p) of the next `numel` draws of `gen`, drawn now (in chunks: a
    4 MiB buffer) and held one bit per entry; `gen` is left just after them. `take` hands the
    entries out in order."""

    def __init__(self, gen: torch.Generator, numel: int, p: float):
        self.p, self.numel, self.pos = p, numel, 0
        self.bits = torch.empty((numel + 7) // 8, dtype=torch.uint8)
        draws = torch.empty(min(numel, DRAW_CHUNK))
        for a in range(0, numel, DRAW_CHUNK):
            m = min(DRAW_CHUNK, numel - a)
            keep = draws[:m].uniform_(generator=gen) >= p
            if m % 8:
                keep = torch.cat([keep, keep.new_zeros(8 - m % 8)])
            eights = keep.view(torch.uint8).view(torch.int64)
            self.bits[a // 8:a // 8 + eights.numel()] = ((eights * _PACK) >> 56).to(torch.uint8)

    def take(self, shape: tuple[int, ...], p: float) -> Tensor:
        """The next prod(shape) entries' mask, float 0/1 of `shape`."""
        count = math.prod(shape)
        if p != self.p or self.pos + count > self.numel:
            raise ValueError(f"PackedKeep holds {self.numel - self.pos} more entries at p={self.p}; "
                             f"asked for {count} at p={p}")
        a, b = self.pos, self.pos + count
        self.pos = b
        first = a // 8
        ones = _BITS.index_select(0, self.bits[first:(b + 7) // 8].to(torch.int32)).reshape(-1)
        return ones[a - 8 * first:a - 8 * first + count].reshape(shape)


def keep_mask(shape: tuple[int, ...], p: float, source: torch.Generator | PackedKeep) -> Tensor:
    """The next prod(shape) entries' keep mask (draw >= p) as float 0/1, on the CPU: drawn
    from a generator, or taken from a `PackedKeep`."""
    if isinstance(source, PackedKeep):
        return source.take(tuple(shape), p)
    keep = torch.empty(shape, dtype=torch.float32).uniform_(generator=source)
    return torch.ge(keep, p, out=keep)  # a float 0/1 mask: several times faster than a boolean one
