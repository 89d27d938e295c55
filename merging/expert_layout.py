"""Checkpoint tensor names <-> the live transformers model's parameters, MoE experts included.

Hub checkpoints of Qwen3-MoE (and Qwen2-MoE) store every expert's projections apart:
`model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight`, each (out, in) like nn.Linear.
transformers 4.x keeps that layout in the live model (`mlp.experts` is an nn.ModuleList of
per-expert MLPs), so the names match one to one. transformers 5.x fuses the experts into two
3-D parameters per layer (transformers/models/qwen3_moe/modeling_qwen3_moe.py,
`Qwen3MoeExperts`; loaded by the "qwen2_moe" WeightConverter of conversion_mapping.py with
MergeModulelist(dim=0) then Concatenate(dim=1)):
    mlp.experts.gate_up_proj  (E, 2*I, H): rows [0, I) are expert e's gate_proj, [I, 2I) its up_proj
    mlp.experts.down_proj     (E, H, I):   expert e's down_proj
An experts module with `is_transposed = True` (the gpt-oss style, (E, H, 2*I) and (E, I, H))
is handled by transposing the view. Every other name (router `mlp.gate.weight`, attention,
norms, embeddings, a tied `lm_head.weight`) maps to the live parameter of the same name.

The API works on views: `live_view` returns the slice of the live parameter that holds one
checkpoint tensor, shaped like that tensor, so writing into it updates the model in place and
reading it gives the checkpoint tensor back. `LiveTensors(model)` is the one lookup every path
that writes checkpoint tensors into a live model (the in-place merger, the transformers
backend's `load_weights`, the sweep's parent loader, the probe) or reads it back goes through;
persistent buffers are found under their own names too.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import torch

_EXPERT = re.compile(r"^(?P<pre>.+\.mlp\.experts)\.(?P<e>\d+)\.(?P<proj>gate_proj|up_proj|down_proj)\.weight$")
_FUSED = re.compile(r"^(?P<pre>.+\.mlp\.experts)\.(?P<param>gate_up_proj|down_proj)$")


@dataclass(frozen=True)
class Slot:
    """Where one checkpoint tensor lives: parameter `param`, expert `expert` (None: the whole
    parameter) and, for the fused gate_up_proj, `half` 0 (gate) or 1 (up)."""

    param: str
    expert: int | None = None
    half: int | None = None
    transposed: bool = False


def _params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    # remove_duplicate=False keeps a tied lm_head.weight addressable by its own name
    return dict(model.named_parameters(remove_duplicate=False))


def _experts_transposed(model: torch.nn.Module, prefix: str) -> bool:
    try:
        module = model.get_submodule(prefix)
    except AttributeError:
        return False
    return bool(getattr(module, "is_transposed", False))


def slot(model: torch.nn.Module, name: str, params: Mapping[str, torch.Tensor] | None = None) -> Slot:
    """The live location of checkpoint tensor `name`; ValueError naming both sides if none."""
    params = _params(model) if params is None else params
    if name in params:
        return Slot(name)
    m = _EXPERT.match(name)
    if m:
        pre, e, proj = m["pre"], int(m["e"]), m["proj"]
        fused = f"{pre}.gate_up_proj" if proj != "down_proj" else f"{pre}.down_proj"
        if fused in params and params[fused].dim() == 3:
            n = params[fused].shape[0]
            if e >= n:
                raise ValueError(f"checkpoint tensor {name!r}: expert {e} but the live {fused!r} holds {n} experts "
                                 f"(shape {tuple(params[fused].shape)}); check config.json's num_experts")
            half = None if proj == "down_proj" else (0 if proj == "gate_proj" else 1)
            return Slot(fused, e, half, _experts_transposed(model, pre))
        n = len({k.split(".")[0] for k in (p[len(pre) + 1:] for p in params if p.startswith(pre + "."))})
        if n:                                       # transformers 4.x: per-expert modules
            raise ValueError(f"checkpoint tensor {name!r}: expert {e} but the live {pre!r} holds {n} experts; "
                             "check config.json's num_experts")
    near = sorted(p for p in params if p.rsplit(".", 2)[0] == name.rsplit(".", 2)[0])[:4]
    raise ValueError(f"checkpoint tensor {name!r} has no place in the live {type(model).__name__} "
                     f"(live parameters nearby: {near or 'none'}); check the checkpoint's key names "
                     "and that config.json's architecture matches it")


def view(param: torch.Tensor, where: Slot) -> torch.Tensor:
    """The part of `param` that `where` names, shaped (out, in) like the checkpoint tensor."""
    if where.expert is None:
        return param
    block = param[where.expert]                       # (2I, H) / (H, I), or transposed
    if where.transposed:
        block = block.t()
    if where.half is not None:
        rows = block.shape[0] // 2
        block = block[where.half * rows:(where.half + 1) * rows]
    return block


def live_view(model: torch.nn.Module, name: str) -> torch.Tensor:
    """A view into the live model holding checkpoint tensor `name` (shape as in the checkpoint)."""
    params = _params(model)
    where = slot(model, name, params)
    return view(params[where.param], where)


def write(model: torch.nn.Module, name: str, tensor: torch.Tensor) -> None:
    """Copy checkpoint tensor `name` into the live model (one expert's slice when fused)."""
    copy_into(lambda n: live_view(model, n), name, tensor)


def checkpoint_names(model: torch.nn.Module) -> list[str]:
    """The live model's tensors under checkpoint (per-expert) names, in parameter order."""
    names: list[str] = []
    for pname, param in _params(model).items():
        m = _FUSED.match(pname)
        if m and param.dim() == 3:
            projs = ("gate_proj", "up_proj") if m["param"] == "gate_up_proj" else ("down_proj",)
            names += [f"{m['pre']}.{e}.{p}.weight" for e in range(param.shape[0]) for p in projs]
        else:
            names.append(pname)
    return names


def checkpoint_tensors(model: torch.nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    """(checkpoint name, view into the live model) for every tensor; `.clone()` to keep one."""
    yield from live_views(model, checkpoint_names(model))


def live_views(model: torch.nn.Module, names: Iterable[str]) -> Iterator[tuple[str, torch.Tensor]]:
    """(checkpoint name, live view) for each name of a checkpoint's state dict, in its order: the
    one call an in-place merger or a backend's load_weights needs to find where a tensor goes."""
    params = _params(model)
    for name in names:
        where = slot(model, name, params)
        yield name, view(params[where.param], where)


class LiveTensors:
    """Checkpoint name -> live view (parameters, fused experts, persistent buffers), built once
    per model; `find` raises the ValueError of `slot` (naming both sides) for an unknown name."""

    def __init__(self, model: torch.nn.Module):
        self.model, self.params = model, _params(model)
        # persistent buffers: the state dict's entries that are not parameters
        self.buffers = {n: b for n, b in model.state_dict(keep_vars=True).items() if n not in self.params}

    def find(self, name: str) -> torch.Tensor:
        if name in self.buffers:
            return self.buffers[name]
        where = slot(self.model, name, self.params)
        return view(self.params[where.param], where)

    def all(self) -> dict[str, torch.Tensor]:
        """Every live tensor under its checkpoint name (parameters in order, then buffers)."""
        out = {n: self.find(n) for n in checkpoint_names(self.model)}
        out.update(self.buffers)
        return out


def copy_into(find: Callable[[str], torch.Tensor], name: str, tensor: torch.Tensor) -> None:
    """Copy `tensor` into the live place `find(name)`, refusing a shape mismatch (nothing written)."""
    dst = find(name)
    if tuple(dst.shape) != tuple(tensor.shape):
        raise ValueError(f"checkpoint tensor {name!r} has shape {tuple(tensor.shape)}, the live model's "
                         f"place for it has {tuple(dst.shape)}; check config.json against the checkpoint")
    with torch.no_grad():
        dst.copy_(tensor.to(device=dst.device, dtype=dst.dtype))
