"""The parents of a merge held for the in-memory drivers, opened and checked name by name.

    parents = ParentTensors({"direct": d_dir, "think": t_dir, "base": b_dir}, device="cuda")
    parents.get("model.norm.weight")   # {"direct": tensor, "think": tensor, "base": tensor}

Parents are state dicts (name -> tensor, as in the safetensors files) or checkpoint paths /
hub ids. They are either resident on `device` (`resident="device"`: fastest, memory = the
parents' bytes) or read per tensor from their safetensors files (`resident="host"`: pread
through the OS page cache, which several processes on one node share; memory = one tensor).
Checks, in this order, each raising one ValueError that names the tensor: the same names in
every parent (`check_names`), the same shapes as the thinking parent (unless the caller
checks shapes against its own target), and, on request, the values (`check_values`:
non-float tensors equal to the thinking parent's, no NaN/Inf unless allowed). The streaming
engine checks files the same way before reading them (`merging.validate`).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from merging.checkpoint import load_state_dict, open_checkpoint
from merging.safetensors_io import Reader
from merging.validate import count_nonfinite

ROLES = ("direct", "think", "base")
Source = str | Path | Mapping[str, Tensor]


def check_names(names: Sequence[str], catalogs: Mapping[str, Mapping]) -> None:
    """Every parent holds exactly the thinking parent's tensor names."""
    for role, have in catalogs.items():
        for a, b, who in ((names, have, role), (have, names, "think")):
            missing = [n for n in a if n not in b]
            if missing:
                raise ValueError(f"the {who} parent lacks tensor {missing[0]!r}; the parents must hold "
                                 "the same tensors")


class ParentTensors:
    """The parents' (and base's) tensors by checkpoint name, in the thinking parent's order."""

    def __init__(self, sources: Mapping[str, Source], *, device: str | torch.device = "cpu",
                 resident: str = "device", check_shapes: bool = True):
        if resident not in ("device", "host"):
            raise ValueError(f"resident must be 'device' or 'host', got {resident!r}")
        unknown = set(sources) - set(ROLES)
        if unknown or not {"direct", "think"} <= set(sources):
            raise ValueError(f"parents are direct, think (and base); got {sorted(sources)}")
        self.device, self.resident = torch.device(device), resident
        self._sd: dict[str, Mapping[str, Tensor]] = {}
        self._infos: dict[str, dict] = {}
        self._reader: Reader | None = None
        for role, src in sources.items():
            if isinstance(src, Mapping):
                if resident == "host":
                    raise ValueError(f"resident='host' reads checkpoint files; the {role} parent is a state dict")
                self._sd[role] = {n: t.detach().to(self.device) for n, t in src.items()}
            elif resident == "device":
                self._sd[role] = load_state_dict(src, device=self.device)
            else:
                self._infos[role] = open_checkpoint(src).tensors
        if self._infos:
            self._reader = Reader()
        self.roles = tuple(r for r in ROLES if r in sources)
        self.names = list(self._catalog("think"))
        check_names(self.names, {role: self._catalog(role) for role in self.roles})
        if check_shapes:
            for role in self.roles:
                for n in self.names:
                    if tuple(self.shape(n, role)) != tuple(self.shape(n, "think")):
                        raise ValueError(f"tensor {n!r}: {role} parent shape {list(self.shape(n, role))}, "
                                         f"think parent {list(self.shape(n, 'think'))}")

    def _catalog(self, role: str) -> Mapping:
        return self._sd[role] if role in self._sd else self._infos[role]

    def shape(self, name: str, role: str = "think") -> tuple[int, ...]:
        return tuple(self._catalog(role)[name].shape)

    def dtype(self, name: str, role: str = "think") -> torch.dtype:
        return self._catalog(role)[name].dtype

    def is_float(self, name: str) -> bool:
        return self.dtype(name).is_floating_point

    def numel(self, name: str) -> int:
        return int(torch.Size(self.shape(name)).numel())

    def floats(self) -> list[str]:
        """The float tensors' names (the merged ones), in order."""
        return [n for n in self.names if self.is_float(n)]

    def nbytes(self) -> int:
        """Bytes the parents occupy on `device` (0 when they are read from files per tensor)."""
        return sum(t.numel() * t.element_size() for sd in self._sd.values() for t in sd.values())

    def get(self, name: str) -> dict[str, Tensor]:
        """role -> that parent's tensor `name` on `device`, in its stored dtype."""
        if self._sd:
            return {role: self._sd[role][name] for role in self.roles}
        return {role: self._reader.read(self._infos[role][name]).to(self.device) for role in self.roles}

    def inputs(self, name: str) -> tuple[Tensor, Tensor, Tensor | None]:
        """(direct, think, base or None) of tensor `name`, as a method's `prepare` takes them."""
        x = self.get(name)
        return x["direct"], x["think"], x.get("base")

    def check_values(self, names: Sequence[str] | None = None, allow_nonfinite: bool = False) -> None:
        """Non-float tensors equal the thinking parent's (they are copied, not merged); float
        tensors hold no NaN/Inf unless `allow_nonfinite`. Role by role, then name by name."""
        names = self.names if names is None else names
        for role in self.roles:
            for name in names:
                t, ref = self.get(name)[role], self.get(name)["think"]
                if not t.is_floating_point() and not torch.equal(t, ref):
                    raise ValueError(f"non-float tensor {name!r} of the {role} parent differs from the "
                                     "thinking parent's; such tensors are copied, so they must be equal")
                if t.is_floating_point() and not allow_nonfinite:
                    bad = count_nonfinite(t)
                    if bad:
                        raise ValueError(f"tensor {name!r} of the {role} parent holds {bad} "
                                         "NaN/Inf values; pass allow_nonfinite=True to merge it anyway")

    def close(self) -> None:
        self._sd.clear()
        if self._reader is not None:
            self._reader.close()


def parent_tensors(parents: ParentTensors, role: str, dtype: torch.dtype | None = None) -> Iterator[tuple[str, Tensor]]:
    """One parent's own tensors (a parent point of the sweep), cast like a merge's."""
    if role not in parents.roles:
        raise ValueError(f"no {role!r} parent; have {list(parents.roles)}")
    for name in parents.names:
        t = parents.get(name)[role]
        yield name, t.to(dtype) if dtype is not None and t.is_floating_point() else t
