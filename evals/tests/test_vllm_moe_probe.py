"""The vLLM swap probe covers MoE experts, and refuses an MoE kernel that re-lays out expert
weights after loading, on CPU with a fake of vLLM's MoE layout (no vLLM needed).

vLLM stacks a layer's experts into `experts.w13_weight` (E, 2I, H) = [gate; up] per expert and
`experts.w2_weight` (E, H, I); its `load_weights` writes checkpoint tensors in that layout. Some
MoE kernels then re-lay the weights out in `process_weights_after_loading` at startup; a later
swap through `load_weights` writes the loader's layout into the processed one. The fake's
`relayout` flips each expert's w13 rows after every load, as such a kernel would: the sums stay
the same (a sum cannot see it), the element-wise check on expert 0 does not."""
from types import SimpleNamespace

import pytest
import torch

from evals.backends.vllm_inplace import check_replies
from evals.backends.vllm_merge_worker import SpectrumMergeExtension
from evals.backends.vllm_names import layout_witnesses, probe_plan, vllm_param_name
from fixtures import standins
from merging.checkpoint import load_state_dict
from merging.feed import TensorMerger
from merging.parents import ParentTensors

pytestmark = pytest.mark.fast

ORDER = {"q": 0, "k": 1, "v": 2, 0: 0, 1: 1}


class _VllmMoe(torch.nn.Module):
    """vLLM's Qwen3-MoE layout in miniature, with its stacked loader."""

    def __init__(self, sd: dict, relayout: bool = False):
        super().__init__()
        self.relayout, self.slots, self.store = relayout, {}, {}
        dense: dict[str, list] = {}
        for name, t in sd.items():
            param, shard, expert = vllm_param_name(name)
            if expert is None:
                dense.setdefault(param, []).append((ORDER.get(shard, 0), name, t))
        for param, parts in dense.items():
            start = 0
            for _, name, t in sorted(parts, key=lambda x: x[0]):
                self.slots[name] = (param, None, start, start + t.shape[0])
                start += t.shape[0]
            self.store[param] = torch.cat([t for _, _, t in sorted(parts, key=lambda x: x[0])]).clone()
        for name, t in sd.items():
            param, shard, e = vllm_param_name(name)
            if e is None:
                continue
            rows = t.shape[0]
            lo = rows if shard == "w3" else 0
            self.slots[name] = (param, e, lo, lo + rows)
            n = 1 + max(vllm_param_name(k)[2] or 0 for k in sd if vllm_param_name(k)[0] == param)
            full = 2 * rows if shard in ("w1", "w3") else rows
            self.store.setdefault(param, torch.zeros(n, full, t.shape[1], dtype=t.dtype))
        self.load_weights(sd.items())

    def named_parameters(self, *a, **k):
        return ((n, torch.nn.Parameter(t, requires_grad=False)) for n, t in self.store.items())

    def parameters(self, *a, **k):
        return (p for _, p in self.named_parameters())

    def load_weights(self, weights):
        for name, t in weights:
            param, e, a, b = self.slots[name]
            (self.store[param] if e is None else self.store[param][e])[a:b].copy_(t)
        if self.relayout:      # a kernel's post-load processing: permute each expert's w13 rows
            for param in [p for p in self.store if p.endswith("w13_weight")]:
                self.store[param] = self.store[param].flip(1).contiguous()


@pytest.fixture(scope="module")
def moe():
    return standins.trio("moe")


def _worker(moe, relayout: bool):
    w = SpectrumMergeExtension()
    w.model_runner = SimpleNamespace(model=_VllmMoe(load_state_dict(moe["think"]), relayout))
    w.spectrum_open_parents({"direct": str(moe["direct"]), "think": str(moe["think"])}, "host")
    return w


def test_the_probe_plan_covers_the_first_layers_experts(moe):
    names = list(load_state_dict(moe["think"]))
    plan = probe_plan(names, tensor_parallel=1)
    w13 = plan["model.layers.0.mlp.experts.w13_weight"]
    assert sorted(w13) == sorted(f"model.layers.0.mlp.experts.{e}.{p}_proj.weight" for e in range(4)
                                 for p in ("gate", "up"))
    assert len(plan["model.layers.0.mlp.experts.w2_weight"]) == 4
    assert "model.layers.1.mlp.experts.w13_weight" not in plan
    assert not any("experts" in p for p in probe_plan(names, tensor_parallel=2))
    assert layout_witnesses(names) == {
        "model.layers.0.mlp.experts.0.gate_proj.weight": ("model.layers.0.mlp.experts.w13_weight", 0, 0),
        "model.layers.0.mlp.experts.0.up_proj.weight": ("model.layers.0.mlp.experts.w13_weight", 0, -1),
        "model.layers.0.mlp.experts.0.down_proj.weight": ("model.layers.0.mlp.experts.w2_weight", 0, 0)}
    assert layout_witnesses(names, tensor_parallel=2) == {}


def test_a_swap_into_the_loaders_layout_is_verified_experts_included(moe):
    w = _worker(moe, relayout=False)
    reply = w.spectrum_apply({"method": "linear", "params": {}, "seed": 0, "lam": 0.3, "cache": False})
    check_replies([reply], "linear lam=0.3")
    assert "model.layers.0.mlp.experts.w2_weight" in reply["expected"] and reply["layout"] == []
    parents = ParentTensors({"direct": str(moe["direct"]), "think": str(moe["think"])})
    want = dict(TensorMerger(parents, "linear").tensors(0.3, torch.bfloat16))
    live = dict(w.model_runner.model.named_parameters())
    assert torch.equal(live["model.layers.1.mlp.experts.w13_weight"][2, 8:],
                       want["model.layers.1.mlp.experts.2.up_proj.weight"])


def test_a_kernel_that_relays_out_experts_is_refused_with_the_reason(moe):
    w = _worker(moe, relayout=True)
    reply = w.spectrum_apply({"method": "linear", "params": {}, "seed": 0, "lam": 0.3, "cache": False})
    assert not [k for k, v in reply["expected"].items() if abs(v - reply["live"][k]) > 1e-9 * max(1, abs(v))]
    with pytest.raises(RuntimeError, match=r"refused on worker 0: model.layers.0.mlp.experts.w13_weight\[0\] "
                                           r".*process_weights_after_loading.*transformers backend"):
        check_replies([reply], "linear lam=0.3")
