"""Streaming merge engine: K strengths of one method from one read of the parents.

    merge("linear", "direct_dir", "think_dir", lams=[0.3, 0.7], outs=["m03", "m07"])

Validates everything first (method, parameters, lam, parents' tensors/shapes/dtypes/
architecture, non-float tensors equal, outputs), then streams the parents one tensor at a
time: each tensor, in slices of about CHUNK_ELEMS elements cut as the method asks
(`spec.unit`: any flat slice for elementwise methods, whole rows for LoRE's Gram route, or
the tensor whole), is read once per per-tensor statistics pass of the method (TIES' and
Twin's thresholds, SLERP's angle, LoRE's Gram matrix: `spec.tensor_passes`), then once more
to be merged: upcast to float32 (unless the method computes from the stored dtype itself,
`upcast=False`), `prepare`d once and written K times through `spec.into(state, lam, out)`.
So memory stays bounded whatever a tensor's size. Methods with whole-model statistics (EMR,
the top-share merges) make their extra streaming passes first. Preparing, the statistics and
the strength go through the per-tensor driver (`merging.apply.MethodRun`)
shared with the in-place merger and the tensor feed. Outputs go to temporary siblings
renamed at the end (see merging.output). The engine knows nothing about any operator beyond
its registry entry.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import torch
from tqdm.auto import tqdm

from merging.apply import MethodRun, StreamsAhead, Strength, pieces, tied_embeddings
from merging.checkpoint import Checkpoint, open_checkpoint
from merging.output import (copy_side_files, discard, make_temp_dir, publish, write_config,
                            write_provenance)
from merging.pipeline import WriteBehind, read_ahead, tune_malloc
from merging.safetensors_io import OutTensor, Reader, ShardWriter, plan_shards
from merging.statistics import CHUNK_ELEMS
from merging.steps import f32
from merging.validate import (check_configs, check_lams, check_outputs, check_tensors,
                              count_nonfinite, parse_device, parse_dtype, parse_size)

# CHUNK_ELEMS (why 2**20: merging.statistics) is the flat slice the engine reads and merges.
READ_AHEAD_BYTES = 16 << 20  # parents' bytes loaded ahead of the merge (at least one piece)
WRITE_BEHIND_BYTES = 16 << 20  # merged bytes queued for writing (small: fresh heap pages cost faults)
READ_WORKERS = max(1, min(2, (os.cpu_count() or 1) // 2))  # a second reader only with cores to spare


@contextmanager
def _threads(n: int | None):
    """Run slice-by-slice work on n intra-op threads. Why: a 1 MiB slice gains nothing from
    more, and OpenMP workers spinning on a busy machine made such merges 20x slower."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# (tensor name, first element, stop element or None = whole, phase: the index of the tensor's
# own statistics pass it feeds, or WRITE)
Piece = tuple[str, int, "int | None", int]
WRITE = -1


class _Stream:
    """One merge job's reading side: parents, reader, device and the non-finite policy."""

    def __init__(self, run: MethodRun, parents: dict[str, Checkpoint],
                 reader: Reader, device: torch.device, allow_nonfinite: bool, progress: bool):
        self.run, self.spec, self.params, self.parents = run, run.spec, run.params, parents
        self.reader, self.device, self.allow_nonfinite = reader, device, allow_nonfinite
        self.progress = progress
        self.think = parents["think"].tensors
        self.nonfinite: dict[str, int] = {}
        self._lock = threading.Lock()

    def plan(self, order: list[str]) -> list[Piece]:
        """Every float tensor in flat slices (the model-wide statistics' passes)."""
        return [(name, a, b, WRITE) for name in order if self.think[name].dtype.is_floating_point
                for a, b in pieces(self.think[name].numel, 1, CHUNK_ELEMS)]

    def plan_write(self, order: list[str]) -> list[Piece]:
        """The merge's pieces: each float tensor's slices (as the method cuts it) once per
        per-tensor statistics pass, then once to merge; non-float tensors (copied raw) sliced."""
        out = []
        for name in order:
            info = self.think[name]
            if not info.dtype.is_floating_point:
                out += [(name, a, b, WRITE) for a, b in pieces(info.numel, 1, CHUNK_ELEMS)]
                continue
            ranges = pieces(info.numel, self.run.unit(info.shape), CHUNK_ELEMS)
            for phase in range(len(self.run.tensor_passes(info.shape))):
                out += [(name, a, b, phase) for a, b in ranges]
            out += [(name, a, b, WRITE) for a, b in ranges]
        return out

    def size(self, piece: Piece) -> int:
        name, first, stop, _ = piece
        info = self.think[name]
        return ((info.numel if stop is None else stop) - first) * info.dtype.itemsize * len(self.parents)

    def load(self, piece: Piece, check: bool) -> dict[str, torch.Tensor]:
        """The piece of every parent on the device, in float32 (or as stored, for methods with
        upcast=False; a non-float tensor raw, thinking's only). Values are checked once, when
        the piece is merged."""
        name, first, stop, phase = piece
        check = check and phase == WRITE
        if not self.think[name].dtype.is_floating_point:  # equal in every parent (checked)
            return {"think": self.reader.read(self.think[name], first, stop)}
        out = {}
        for role, ckpt in self.parents.items():
            info = ckpt.tensors[name]
            x = self.reader.read(info, first, stop).to(self.device)
            if self.spec.upcast:
                x = f32(x)
            bad = count_nonfinite(x) if check else 0
            if bad and not self.allow_nonfinite:
                raise ValueError(f"{info.file}: tensor {name!r} of the {role} parent holds {bad} "
                                 "NaN/Inf values; pass allow_nonfinite=True (--allow-nonfinite) "
                                 "to merge it anyway")
            if bad:
                with self._lock:  # loads may run on two reader threads
                    self.nonfinite[f"{role}:{name}"] = self.nonfinite.get(f"{role}:{name}", 0) + bad
            out[role] = x
        return out

    def stream(self, pieces: list[Piece], check: bool, desc: str):
        """(piece, loaded parents) in order, read ahead on a worker thread, with a progress bar."""
        total = sum(self.size(p) for p in pieces) // len(self.parents)
        with tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=not self.progress) as bar:
            for piece, x in read_ahead(pieces, lambda p: self.load(p, check), self.size, READ_AHEAD_BYTES,
                                       workers=READ_WORKERS):
                yield piece, x
                bar.update(self.size(piece) // len(self.parents))

    def gather(self, order: list[str]):
        """The method's model-wide statistics: one stream of every float tensor per pass, in
        flat slices (a tied embedding twice under paper_compat); the first pass checks (and
        counts) non-finite values."""
        plan = self.plan(self.run.visit_order(order))
        passes = 0

        def slices(previous):
            nonlocal passes
            passes += 1
            with closing(self.stream(plan, passes == 1, f"{self.spec.name} statistics")) as loaded:
                for (name, _, _, _), x in loaded:
                    yield x["direct"], x["think"], x.get("base"), self.think[name].numel

        return self.run.gather(slices)


def _check_nonfloat(parents: dict[str, Checkpoint], reader: Reader) -> None:
    think = parents["think"]
    for name, info in think.tensors.items():
        if info.dtype.is_floating_point:
            continue
        ref = reader.read(info)
        for role, ckpt in parents.items():
            other = ckpt.tensors[name]
            if not torch.equal(reader.read(other), ref):
                raise ValueError(f"{other.file}: non-float tensor {name!r} of the {role} parent differs "
                                 f"from the thinking parent's ({info.file}); such tensors are copied, "
                                 "not merged, so they must be equal")


def merge(method: str, direct: str | Path, think: str | Path, base: str | Path | None = None, *,
          lams: Sequence[float], outs: Sequence[str | Path], params=None, seed: int = 0,
          dtype: str | torch.dtype | None = None, max_shard_size: str | int = "5GB",
          force: bool = False, device: str | torch.device = "cpu", copy_from: str = "think",
          allow_nonfinite: bool = False, allow_extrapolation: bool = False,
          progress: bool = True, strength: Strength | None = None,
          paper_compat: bool = False) -> list[Path]:
    """Merge `direct` and `think` (and `base`) at every lam in `lams`, one output dir per lam.
    `strength(name, lam)`, when given, is each tensor's own lam (default: lam). `paper_compat`
    reproduces the paper's code's quirks (see merging.apply; recorded in provenance).

    Returns the output directories. Raises ValueError (nothing written) on any bad input.
    """
    run = MethodRun(method, params, seed=seed, has_base=base is not None, where="base= (--base)",
                    strength=strength, paper_compat=paper_compat)
    params = run.params
    lams = check_lams(lams, allow_extrapolation)
    outs = [Path(o) for o in outs]
    if len(outs) != len(lams):
        raise ValueError(f"{len(lams)} lam values but {len(outs)} output directories")
    out_dtype, max_bytes, device = parse_dtype(dtype), parse_size(max_shard_size), parse_device(device)
    sources = {"direct": direct, "think": think, **({"base": base} if base is not None else {})}
    if copy_from not in sources:
        raise ValueError(f"copy_from={copy_from!r}: choose one of {list(sources)}")
    parents = {role: open_checkpoint(src) for role, src in sources.items()}
    run.tied = tied_embeddings(list(parents["think"].tensors), parents["think"].config)
    check_configs(parents)
    dtypes = check_tensors(parents, out_dtype)
    check_outputs(outs, parents, force)
    # the thinking parent's physical order (shard, then offset): sequential reads
    order = list(parents["think"].tensors)
    plan = plan_shards([OutTensor(n, dtypes[n], parents["think"].tensors[n].shape) for n in order], max_bytes)

    tune_malloc()
    with Reader() as reader:
        _check_nonfloat(parents, reader)
        stream = _Stream(run, parents, reader, device, allow_nonfinite, progress)
        with _threads(1):
            if run.needs_stats:
                stream.gather(order)
            run.refine(lams, [n for n in order if parents["think"].tensors[n].dtype.is_floating_point])
            stats = run.stats_record()
        made_dirs = [p for o in outs for p in reversed(o.parents) if not p.exists()]
        temps: list[Path] = []
        writers: list[ShardWriter] = []
        try:
            temps = [make_temp_dir(o) for o in outs]
            writers = [ShardWriter(t, plan) for t in temps]
            with _threads(1 if run.elementwise else None):
                diag = _write_pass(stream, order, dtypes, lams, writers, check=not run.needs_stats)
            for writer in writers:
                writer.close()
            floats = {d for d in dtypes.values() if d.is_floating_point}
            config_dtype = floats.pop() if len(floats) == 1 else None
            for k, temp in enumerate(temps):
                copy_side_files(parents[copy_from].directory, temp)
                write_config(parents[copy_from].config, temp, config_dtype)
                write_provenance(temp, _record(run, order, lams, k, seed, parents, copy_from, dtypes,
                                               stats, diag, stream, max_bytes, device))
        except BaseException:
            for writer in writers:
                writer.abort()
            for temp in temps:
                discard(temp)
            for made in sorted(set(made_dirs), key=lambda p: len(p.parts), reverse=True):
                if made.is_dir() and not any(made.iterdir()):
                    made.rmdir()
            raise
    for i, (temp, out) in enumerate(zip(temps, outs)):
        try:
            publish(temp, out, force)
        except BaseException:
            for rest in temps[i:]:
                discard(rest)
            raise
    return outs


def _write_pass(stream: _Stream, order: list[str], dtypes: dict[str, torch.dtype], lams: list[float],
                writers: list[ShardWriter], check: bool) -> dict[str, float]:
    run, spec = stream.run, stream.spec
    diag: dict[str, float] = {}
    # output k's merge-and-write runs on lane k % lanes: the K outputs of a sweep proceed in
    # parallel (one output: merged on this thread, written on the lane)
    lanes = min(len(lams), os.cpu_count() or 1)
    behind = WriteBehind(WRITE_BEHIND_BYTES, lanes=lanes)
    gen = stats = None
    plan = stream.plan_write(order)
    floats = [n for n in order if stream.think[n].dtype.is_floating_point]
    ahead = StreamsAhead(run, floats, {n: stream.think[n].numel for n in floats}) if spec.streams else None
    # one output buffer per lane and dtype, reused slice after slice (a lane runs its jobs one
    # after another and `write` has copied the bytes out when it returns)
    buffers: list[dict[torch.dtype, torch.Tensor]] = [{} for _ in range(lanes)]

    def out_buffer(lane: int, like: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        n = like.numel()
        if n > CHUNK_ELEMS:
            return torch.empty(like.shape, dtype=dtype, device=like.device)
        buf = buffers[lane].get(dtype)
        if buf is None:
            buf = buffers[lane][dtype] = torch.empty(CHUNK_ELEMS, dtype=dtype, device=like.device)
        return buf[:n].view(like.shape)

    # closing: the reader threads stop before the files close, even on error
    loaded = stream.stream(plan, check, f"merge {spec.name} x{len(lams)}")
    with closing(loaded):
        try:
            for (name, first, _, phase), x in loaded:
                if phase != WRITE:  # the tensor's own statistics passes come before its merge
                    state = out = stats = None  # the previous tensor's: freed before these passes
                    info = stream.think[name]
                    count, pending = len(pieces(info.numel, run.unit(info.shape), CHUNK_ELEMS)), [x]

                    def slices(previous, name=name, count=count, pending=pending, numel=info.numel):
                        for _ in range(count):  # one pass: the tensor's slices, in the plan's order
                            y = pending.pop() if pending else next(loaded)[1]
                            yield y["direct"], y["think"], y.get("base"), numel

                    stats = run.tensor_stats(name, info.shape, slices)
                    (name, first, _, phase), x = next(loaded)  # the tensor's first piece to merge
                elif first == 0:
                    stats = run.stats
                if "direct" not in x:  # a non-float tensor: the same bytes to every output
                    for k, writer in enumerate(writers):
                        behind.submit(lambda w=writer, n=name, raw=x["think"]: w.write(n, raw),
                                      x["think"].numel() * x["think"].element_size(), lane=k)
                    continue
                if first == 0:  # a tensor's slices share its streams: the draws continue
                    gen = ahead.get(name) if ahead else run.generator(name, stream.think[name].numel)
                state = run.prepare(name, x["direct"], x["think"], x.get("base"), gen, stats)
                run.diagnose(state, diag)
                nbytes = x["think"].numel() * dtypes[name].itemsize
                if len(lams) == 1:  # compute here, write there: the writer is the busiest thread
                    out = torch.empty(x["think"].shape, dtype=dtypes[name], device=x["think"].device)
                    run.into(state, name, lams[0], out)
                    behind.submit(lambda w=writers[0], n=name, out=out: w.write(n, out), nbytes)
                    continue
                for k, (lam, writer) in enumerate(zip(lams, writers)):
                    def job(w=writer, n=name, s=state, lam=lam, lane=k % lanes, like=x["think"]):
                        out = out_buffer(lane, like, dtypes[n])
                        run.into(s, n, lam, out)
                        w.write(n, out)

                    behind.submit(job, nbytes, lane=k % lanes)
            behind.drain()
        finally:
            behind.close()
            if ahead:
                ahead.close()
    return run.summary(diag)


def _record(run, order, lams, k, seed, parents, copy_from, dtypes, stats, diag, stream, max_bytes,
            device) -> dict:
    spec, strength = run.spec, run.strength
    record = {
        "method": spec.name,
        "lam": lams[k],
        "sweep_lams": lams if len(lams) > 1 else None,
        "params": run.params,
        "paper_compat": run.paper_compat,
        "tied_visited_twice": [n for n in run.tied if run.visits(n) == 2],
        "seed": seed,
        "paper": spec.paper,
        "dtypes": sorted({str(d).removeprefix("torch.") for d in dtypes.values()}),
        "copy_from": copy_from,
        "inputs": {role: {"source": c.source, "path": str(c.path), "fingerprint": c.fingerprint}
                   for role, c in parents.items()},
        "model_stats": stats,
        "diagnostics": diag,
        "nonfinite_entries": stream.nonfinite or None,
        "max_shard_bytes": max_bytes,
        "device": str(device),
    }
    if hasattr(strength, "provenance"):  # a schedule: each tensor's rule and strength
        record["strength"] = strength.provenance([n for n in order if dtypes[n].is_floating_point], lams[k])
    return record
