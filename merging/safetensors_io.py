"""A small safetensors reader and an incremental sharded writer (plain reads and writes).

Format (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header
length N, N bytes of JSON {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
then the tensor bytes. Why our own code rather than `safetensors.safe_open`:
- reads are plain `pread`s of one tensor, or one slice of a tensor, into fresh memory; a
  memory map would count every page it touched in the process's resident memory;
- every header is checked before anything is written (one line naming the file and the
  tensor for a truncated or malformed file);
- an output shard is written as its tensors are computed: names, shapes and dtypes are
  known in advance, so the header is planned first and bytes are appended in order; no
  shard is ever held in memory. The files are standard (safetensors and transformers read them).
"""
from __future__ import annotations

import json
import math
import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U8": torch.uint8, "U16": torch.uint16, "U32": torch.uint32, "U64": torch.uint64,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}
CODES = {v: k for k, v in DTYPES.items()}
MAX_HEADER = 100_000_000  # the safetensors library's own limit

if sys.byteorder != "little":  # pragma: no cover - the format is little-endian
    raise ImportError("merging.safetensors_io needs a little-endian machine")


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lives: file, absolute byte range, dtype and shape."""

    name: str
    file: Path
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int  # absolute file offset of the first byte
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.start


def read_header(path: Path) -> tuple[list[TensorInfo], dict, bytes]:
    """Parse and check one file's header; returns (tensors in file order, metadata, raw header)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ValueError(f"{path}: {size} bytes, too short for a safetensors file (truncated?)")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER or 8 + n > size:
            raise ValueError(f"{path}: header length {n} does not fit in the file's {size} bytes "
                             "(truncated, or not a safetensors file)")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable safetensors header ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    data_start, data_len = 8 + n, size - 8 - n
    infos: list[TensorInfo] = []
    for name, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = tuple(int(s) for s in entry["shape"])
            begin, stop = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path}: tensor {name!r}: bad header entry {entry!r}") from None
        expected = math.prod(shape) * dtype.itemsize
        if any(s < 0 for s in shape) or stop - begin != expected or begin < 0:
            raise ValueError(f"{path}: tensor {name!r}: offsets {begin}-{stop} do not match "
                             f"shape {list(shape)} of {entry['dtype']}")
        infos.append(TensorInfo(name, path, dtype, shape, data_start + begin, data_start + stop))
    infos.sort(key=lambda t: (t.start, t.end))
    pos = data_start
    for info in infos:
        if info.start != pos:
            raise ValueError(f"{path}: tensor {info.name!r} does not start where the previous ends "
                             "(overlapping or holed safetensors file)")
        pos = info.end
    if pos - data_start > data_len:
        missing = next(t for t in infos if t.end - data_start > data_len)
        raise ValueError(f"{path}: truncated: header promises {pos - data_start} bytes of tensor "
                         f"data but the file holds {data_len} (tensor {missing.name!r} is cut); "
                         "download or copy it again")
    if pos - data_start < data_len:
        raise ValueError(f"{path}: {data_len - (pos - data_start)} trailing bytes after the last "
                         "tensor; not a valid safetensors file")
    return infos, metadata, raw


class Reader:
    """Reads tensors or flat element ranges with pread; keeps its files open.

    (A memory map measured no faster here, and counts every touched page as resident.)
    """

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}

    def _fd(self, file: Path) -> int:
        fd = self._fds.get(file)
        if fd is None:
            fd = self._fds[file] = os.open(file, os.O_RDONLY)
        return fd

    def read(self, info: TensorInfo, first: int = 0, stop: int | None = None) -> torch.Tensor:
        """Elements [first, stop) of `info`, flat (1-D); the whole tensor, shaped, by default."""
        whole = first == 0 and stop is None
        stop = info.numel if stop is None else stop
        size = info.dtype.itemsize
        buf = torch.empty((stop - first) * size, dtype=torch.uint8)
        fd = self._fd(info.file)
        view, offset, done = memoryview(buf.numpy()), info.start + first * size, 0
        while done < len(view):
            got = os.preadv(fd, [view[done:]], offset + done)
            if got <= 0:
                raise ValueError(f"{info.file}: tensor {info.name!r}: file ended early (truncated?)")
            done += got
        out = buf.view(info.dtype)
        return out.reshape(info.shape) if whole else out

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class OutTensor:
    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def plan_shards(tensors: list[OutTensor], max_bytes: int) -> list[list[OutTensor]]:
    """Greedy, in order: start a new shard when the next tensor would pass max_bytes
    (a tensor larger than max_bytes gets a shard of its own)."""
    shards: list[list[OutTensor]] = [[]]
    used = 0
    for t in tensors:
        if shards[-1] and used + t.nbytes > max_bytes:
            shards.append([])
            used = 0
        shards[-1].append(t)
        used += t.nbytes
    return shards if shards[0] else []


def shard_file_names(count: int) -> list[str]:
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i + 1:05d}-of-{count:05d}.safetensors" for i in range(count)]


def _write_all(fh, data: memoryview) -> None:
    data = data.cast("B")
    while len(data):
        data = data[fh.write(data):]


class ShardWriter:
    """Writes planned shards into `directory`, tensor bytes appended in plan order.

    Call `write(name, data)` with consecutive flat pieces of each tensor, in plan order;
    `close()` checks that every byte arrived and writes model.safetensors.index.json when
    there is more than one shard.
    """

    def __init__(self, directory: Path, shards: list[list[OutTensor]]) -> None:
        self.directory = directory
        self.shards = shards
        self.files = shard_file_names(len(shards))
        self._order = [(i, t) for i, shard in enumerate(shards) for t in shard]
        self._pos = 0  # index into _order of the tensor being written
        self._left = self._order[0][1].nbytes if self._order else 0
        self._fh = None
        self._open_shard = -1

    def write(self, name: str, data: torch.Tensor) -> None:
        self._skip_empty()
        if self._pos >= len(self._order):
            raise RuntimeError(f"write of {name!r} after the last planned tensor")
        shard, expected = self._order[self._pos]
        if name != expected.name or data.dtype != expected.dtype:
            raise RuntimeError(f"write of {name!r} ({data.dtype}) where {expected.name!r} "
                               f"({expected.dtype}) was planned")
        if shard != self._open_shard:
            self._start_shard(shard)
        raw = data.detach().contiguous().reshape(-1).view(torch.uint8)
        if raw.numel() > self._left:
            raise RuntimeError(f"{name!r}: more bytes than its shape holds")
        _write_all(self._fh, raw.cpu().numpy().data)
        self._left -= raw.numel()
        if self._left == 0:
            self._advance()

    def _skip_empty(self) -> None:
        while self._pos < len(self._order) and self._left == 0:
            shard, _ = self._order[self._pos]
            if shard != self._open_shard:
                self._start_shard(shard)
            self._advance()

    def _advance(self) -> None:
        self._pos += 1
        if self._pos < len(self._order):
            self._left = self._order[self._pos][1].nbytes

    def _start_shard(self, index: int) -> None:
        if self._fh is not None:
            self._fh.close()
        header: dict = {"__metadata__": {"format": "pt"}}
        offset = 0
        for t in self.shards[index]:
            header[t.name] = {"dtype": CODES[t.dtype], "shape": list(t.shape),
                              "data_offsets": [offset, offset + t.nbytes]}
            offset += t.nbytes
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-(8 + len(raw)) % 8)  # tensor data starts 8-byte aligned
        self._fh = open(self.directory / self.files[index], "wb", buffering=0)  # raw: no extra copy
        _write_all(self._fh, memoryview(struct.pack("<Q", len(raw)) + raw))
        self._open_shard = index

    def close(self) -> None:
        if self._order and self._pos < len(self._order):
            self._skip_empty()
        if self._pos < len(self._order):
            raise RuntimeError(f"tensor {self._order[self._pos][1].name!r} was never written")
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if len(self.shards) > 1:
            index = {
                "metadata": {"total_size": sum(t.nbytes for s in self.shards for t in s)},
                "weight_map": {t.name: self.files[i] for i, s in enumerate(self.shards) for t in s},
            }
            (self.directory / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
