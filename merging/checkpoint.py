"""Find and open Hugging Face checkpoints: a model directory (sharded safetensors with
`model.safetensors.index.json`, or one `model.safetensors`), a single `.safetensors` file,
or a hub id (downloaded with huggingface_hub only when no local path of that name exists).

Pickle checkpoints (`pytorch_model.bin`, `.pt`, ...) are refused: loading them runs
arbitrary code, and we never unpickle. `load_state_dict` loads a whole checkpoint for
callers that want one in memory (the in-place merger, evaluation code).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from merging.safetensors_io import Reader, TensorInfo, read_header

INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
SAMPLE = 4096  # bytes hashed at each end of every tensor for the fingerprint
_HUB_FILES = ["*.safetensors", "*.json", "*.txt", "*.jinja", "*.model", "*.tiktoken", "LICENSE*"]


def _refuse_pickle(where: Path, names: list[str]) -> None:
    raise ValueError(
        f"{where}: only pickle checkpoints ({', '.join(sorted(names))}); refused because loading "
        "them can run arbitrary code and we never unpickle. Convert the model to safetensors "
        "where you trust it, e.g. AutoModelForCausalLM.from_pretrained(...).save_pretrained(dir)"
    )


def resolve(source: str | Path) -> Path:
    """A local path as is; otherwise a hub id, fetched into the local hub cache."""
    path = Path(source).expanduser()
    if path.exists():
        return path
    text = str(source)
    if isinstance(source, str) and _HUB_ID.fullmatch(text) and not text.startswith("."):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(repo_id=text, allow_patterns=_HUB_FILES))
        except Exception as exc:  # offline, unknown repo, gated...: one clear line
            first_line = (str(exc).splitlines() or [""])[0]
            raise FileNotFoundError(f"{source}: no such local path, and fetching it as a hub id "
                                    f"failed ({type(exc).__name__}: {first_line})") from None
    raise FileNotFoundError(f"{source}: no such file or directory (and not a hub id like org/name)")


@dataclass(frozen=True)
class Checkpoint:
    """An opened checkpoint: its tensors (in file order), config and a structure fingerprint."""

    source: str
    path: Path  # the directory (or the single file)
    tensors: dict[str, TensorInfo]
    config: dict | None
    fingerprint: str  # sampled content hash, see _fingerprint

    @property
    def directory(self) -> Path:
        return self.path if self.path.is_dir() else self.path.parent


def _weight_files(path: Path) -> tuple[list[Path], dict[str, str] | None, bytes]:
    """The safetensors files of a directory, with the index's weight map if there is one."""
    if path.is_file():
        if path.suffix in PICKLE_SUFFIXES:
            _refuse_pickle(path, [path.name])
        if path.suffix != ".safetensors":
            raise ValueError(f"{path}: not a .safetensors file or a model directory")
        return [path], None, b""
    index = path / INDEX
    if index.is_file():
        raw = index.read_bytes()
        try:
            weight_map = json.loads(raw)["weight_map"]
            files = list(dict.fromkeys(weight_map.values()))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{index}: unreadable index ({exc!r})") from None
        for name in files:
            if not (path / name).is_file():
                raise ValueError(f"{index}: lists shard {name!r}, which is missing from {path}")
        return [path / f for f in files], weight_map, raw
    if (path / SINGLE).is_file():
        return [path / SINGLE], None, b""
    found = sorted(path.glob("*.safetensors"))
    if len(found) == 1:
        return found, None, b""
    if len(found) > 1:
        raise ValueError(f"{path}: {len(found)} safetensors files but no {INDEX}")
    pickles = [p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES]
    if pickles:
        _refuse_pickle(path, pickles)
    raise ValueError(f"{path}: no model weights (expected {INDEX} or {SINGLE})")


def open_checkpoint(source: str | Path) -> Checkpoint:
    """Resolve `source`, read and check every shard header (nothing else is read)."""
    path = resolve(source)
    files, weight_map, index_raw = _weight_files(path)
    tensors: dict[str, TensorInfo] = {}
    headers = []
    for file in files:
        infos, _, raw = read_header(file)
        headers.append(raw)
        for info in infos:
            if info.name in tensors:
                raise ValueError(f"{file}: tensor {info.name!r} also appears in {tensors[info.name].file}")
            if weight_map is not None and weight_map.get(info.name) != file.name:
                raise ValueError(f"{file}: holds tensor {info.name!r}, which {INDEX} places "
                                 f"in {weight_map.get(info.name)!r}")
            tensors[info.name] = info
    if weight_map is not None:
        for name, file in weight_map.items():
            if name not in tensors:
                raise ValueError(f"{path / file}: tensor {name!r} listed in {INDEX} is missing")
    if not tensors:
        raise ValueError(f"{path}: the checkpoint holds no tensors")
    config, config_raw = None, b""
    config_path = (path if path.is_dir() else path.parent) / "config.json"
    if config_path.is_file():
        config_raw = config_path.read_bytes()
        try:
            config = json.loads(config_raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{config_path}: unreadable config ({exc})") from None
    fingerprint = _fingerprint([index_raw, *headers, config_raw], tensors)
    return Checkpoint(str(source), path, tensors, config, fingerprint)


def _fingerprint(blobs: list[bytes], tensors: dict[str, TensorInfo]) -> str:
    """sha256 of index, headers and config.json, plus the first and last 4 KiB of every
    tensor's data: a sampled content hash (a full checksum would cost a whole extra read)."""
    digest = hashlib.sha256()
    for blob in blobs:
        digest.update(len(blob).to_bytes(8, "little") + blob)
    fds: dict[Path, int] = {}
    try:
        for info in tensors.values():
            fd = fds.get(info.file)
            if fd is None:
                fd = fds[info.file] = os.open(info.file, os.O_RDONLY)
            head = min(SAMPLE, info.nbytes)
            tail = min(SAMPLE, info.nbytes - head)
            digest.update(os.pread(fd, head, info.start))
            digest.update(os.pread(fd, tail, info.end - tail))
    finally:
        for fd in fds.values():
            os.close(fd)
    return digest.hexdigest()


def load_state_dict(
    path_or_hub_id: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
) -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors checkpoint, in file order, on `device`.

    `dtype` converts floating-point tensors only. Never unpickles.
    """
    ckpt = open_checkpoint(path_or_hub_id)
    out: dict[str, torch.Tensor] = {}
    with Reader() as reader:
        for name, info in ckpt.tensors.items():
            t = reader.read(info)
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            out[name] = t.to(device)
    return out
