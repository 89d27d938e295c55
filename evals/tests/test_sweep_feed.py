"""In-place sweeps for engines with their own parameter layout (vLLM): the per-tensor merge feed
equals InPlaceMerger bit for bit, the checkpoint -> vLLM name mapping, the swap probe, the GPU
memory plan, and the worker extension driven on CPU through a fake fused-parameter model.
The real engine is exercised only by the `gpu` test at the end."""
from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest
import torch

import merging.statistics
from evals.backends.base import SamplingParams
from evals.backends.vllm_inplace import GiB, check_replies, plan_gpu_memory
from evals.backends.vllm_merge_worker import SpectrumMergeExtension
from evals.backends.vllm_names import expected_sums, mismatches, probe_plan, vllm_param_name
from evals.sweep.loading import load_pair
from evals.sweep.local import run_sweep
from evals.sweep.plan import SweepPlan
from evals.tests.test_sweep_jobs import small_config, tiny_pair
from merging.checkpoint import load_state_dict
from merging.feed import TensorMerger, cache_bytes
from merging.inplace import InPlaceMerger
from merging.parents import ParentTensors, parent_tensors
from merging.registry import get_method
from merging.tests.tiny_models import build_family

METHODS = [("linear", {}), ("slerp", {}), ("dare", {"p": 0.5}), ("ties", {"density": 0.5}), ("emr", {}),
           ("lore", {"mu": 0.01}), ("twin", {}), ("task_arithmetic", {})]


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    return build_family(tmp_path_factory.mktemp("feed"), tied=True, dtype=torch.bfloat16)


@pytest.fixture(autouse=True)
def sliced(monkeypatch):
    """One thread (tiny SVDs), and slices small enough that EMR's statistics run over several."""
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", 100)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _sources(dirs, method):
    roles = ("direct", "think", "base") if get_method(method).needs_base else ("direct", "think")
    return {r: dirs[r] for r in roles}


@pytest.mark.fast
@pytest.mark.parametrize("method, params", METHODS, ids=[m for m, _ in METHODS])
def test_feed_equals_inplace_merger_bit_for_bit(dirs, method, params):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(dirs["think"], dtype=torch.bfloat16)
    src = _sources(dirs, method)
    inplace = InPlaceMerger(model, src["direct"], src["think"], src.get("base"), method=method, params=params, seed=3)
    host = TensorMerger(ParentTensors(src, resident="host"), method, params, seed=3)
    resident = TensorMerger(ParentTensors(src, resident="device"), method, params, seed=3, cache=True)
    live = model.state_dict()
    for lam in (0.0, 0.3, 1.0):
        inplace.apply(lam)
        for merger in (host, resident):
            fed = dict(merger.tensors(lam, dtype=torch.bfloat16))
            assert list(fed) == list(load_state_dict(dirs["think"]))
            for name, t in fed.items():
                assert t.dtype == torch.bfloat16 and torch.equal(t, live[name]), (method, lam, name)


@pytest.mark.fast
def test_parent_tensors_check_names_and_feed_a_parent(dirs, tmp_path):
    sd = load_state_dict(dirs["direct"])
    fed = dict(parent_tensors(ParentTensors(_sources(dirs, "linear")), "direct", torch.float32))
    assert all(torch.equal(fed[n], sd[n].float()) for n in sd)
    broken = dict(sd)
    broken.pop("model.norm.weight")
    with pytest.raises(ValueError, match="lacks tensor 'model.norm.weight'"):
        ParentTensors({"direct": broken, "think": dirs["think"]})
    with pytest.raises(ValueError, match="needs a base model"):
        TensorMerger(ParentTensors(_sources(dirs, "linear")), "ties")


@pytest.mark.fast
@pytest.mark.parametrize("method, per_elem", [("linear", 0), ("dare", 8), ("emr", 8)])
def test_cache_bytes_by_hand(dirs, method, per_elem):
    """linear's state only references the parents; DARE's and EMR's hold two float32 vectors."""
    parents = ParentTensors(_sources(dirs, method))
    floats = [n for n in parents.names if parents.is_float(n)]
    assert cache_bytes(parents, method) == per_elem * sum(parents.numel(n) for n in floats)


@pytest.mark.fast
@pytest.mark.parametrize("hf, expect", [
    ("model.layers.3.self_attn.q_proj.weight", ("model.layers.3.self_attn.qkv_proj.weight", "q", None)),
    ("model.layers.0.self_attn.k_proj.bias", ("model.layers.0.self_attn.qkv_proj.bias", "k", None)),
    ("model.layers.1.self_attn.v_proj.weight", ("model.layers.1.self_attn.qkv_proj.weight", "v", None)),
    ("model.layers.0.mlp.gate_proj.weight", ("model.layers.0.mlp.gate_up_proj.weight", 0, None)),
    ("model.layers.0.mlp.up_proj.weight", ("model.layers.0.mlp.gate_up_proj.weight", 1, None)),
    ("model.layers.0.mlp.down_proj.weight", ("model.layers.0.mlp.down_proj.weight", None, None)),
    ("model.layers.2.mlp.experts.17.gate_proj.weight", ("model.layers.2.mlp.experts.w13_weight", "w1", 17)),
    ("model.layers.2.mlp.experts.17.up_proj.weight", ("model.layers.2.mlp.experts.w13_weight", "w3", 17)),
    ("model.layers.2.mlp.experts.3.down_proj.weight", ("model.layers.2.mlp.experts.w2_weight", "w2", 3)),
    ("model.layers.2.mlp.gate.weight", ("model.layers.2.mlp.gate.weight", None, None)),
    ("model.layers.0.self_attn.q_norm.weight", ("model.layers.0.self_attn.q_norm.weight", None, None)),
])
def test_vllm_param_name(hf, expect):
    assert vllm_param_name(hf) == expect


NAMES = ["model.embed_tokens.weight", "model.norm.weight"] + [
    f"model.layers.{i}.{m}" for i in (0, 1) for m in (
        "input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
        "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")]


@pytest.mark.fast
def test_probe_plan_and_expected_sums():
    one = probe_plan(NAMES, tensor_parallel=1)
    assert one == {
        "model.norm.weight": ["model.norm.weight"],
        "model.layers.0.input_layernorm.weight": ["model.layers.0.input_layernorm.weight"],
        "model.layers.1.input_layernorm.weight": ["model.layers.1.input_layernorm.weight"],
        "model.layers.0.self_attn.qkv_proj.weight": [f"model.layers.0.self_attn.{x}_proj.weight" for x in "qkv"],
        "model.layers.0.self_attn.o_proj.weight": ["model.layers.0.self_attn.o_proj.weight"],
        "model.layers.0.mlp.gate_up_proj.weight": ["model.layers.0.mlp.gate_proj.weight",
                                                   "model.layers.0.mlp.up_proj.weight"],
        "model.layers.0.mlp.down_proj.weight": ["model.layers.0.mlp.down_proj.weight"],
    }
    assert set(probe_plan(NAMES, tensor_parallel=2)) == {n for n in one if n.endswith("norm.weight")}
    fed = {n: float(i) for i, n in enumerate(NAMES)}  # q, k, v of layer 0 are NAMES[3:6] -> 3 + 4 + 5
    sums = expected_sums(one, fed)
    assert sums["model.layers.0.self_attn.qkv_proj.weight"] == 12.0
    assert "model.norm.weight" not in expected_sums(one, {"model.layers.0.input_layernorm.weight": 1.0})
    assert mismatches({"a": 1.0}, {"a": 1.0}) == []
    assert mismatches({"a": 1.0}, {"a": 1.5}) == ["a: engine holds sum 1.5, the merge fed 1.0"]
    assert mismatches({"a": 1.0}, {}) == ["a: not a parameter of the engine's model"]


@pytest.mark.fast
@pytest.mark.parametrize("total, model, parents, expect", [
    # reserve = parents + 2 GiB + 5%; engine = 0.9 total - reserve must hold model + KV (10%, >= 4 GiB)
    (80, 8, 24, (0.525, "device")),  # Qwen3-4B trio on an 80 GiB GPU: (72 - 30) / 80
    (80, 57, 171, (0.9, "host")),  # 30B-A3B: the parents cannot sit beside the engine
    (40, 8, 24, (0.9, "host")),  # 36 - 28 = 8 GiB < 8 + 4
])
def test_plan_gpu_memory_by_hand(total, model, parents, expect):
    assert plan_gpu_memory(total * GiB, model * GiB, parents * GiB) == expect


@pytest.mark.fast
def test_check_replies_names_the_failing_worker():
    ok = {"sent": 10, "expected": {"model.norm.weight": 2.0}, "live": {"model.norm.weight": 2.0}}
    check_replies([ok, ok], "ties lam=0.6")
    bad = dict(ok, live={"model.norm.weight": 3.0})
    with pytest.raises(RuntimeError, match="ties lam=0.6: weight swap did not take effect on worker 1"):
        check_replies([ok, bad], "ties lam=0.6")
    with pytest.raises(RuntimeError, match="loaded no tensors"):
        check_replies([dict(ok, sent=0)], "x")
    with pytest.raises(RuntimeError, match="nothing to probe"):
        check_replies([dict(ok, expected={})], "x")


class _FusedModel(torch.nn.Module):
    """vLLM's layout in miniature: q/k/v and gate/up stacked, loaded by a stacked mapping."""

    def __init__(self, sd: dict, skip: str | None = None):
        super().__init__()
        self.skip, self.slots = skip, {}
        fused: dict[str, list] = {}
        for name, t in sd.items():
            param, shard, _ = vllm_param_name(name)
            fused.setdefault(param, []).append((shard, name, t))
        self.params = torch.nn.ParameterDict()
        order = {"q": 0, "k": 1, "v": 2, 0: 0, 1: 1, None: 0}
        for param, parts in fused.items():
            rows, start = [], 0
            for shard, name, t in sorted(parts, key=lambda x: order[x[0]]):
                self.slots[name] = (param, start, start + t.shape[0])
                start += t.shape[0]
                rows.append(t)
            self.params[param.replace(".", "__")] = torch.nn.Parameter(torch.cat(rows).clone(), requires_grad=False)

    def named_parameters(self, *a, **k):
        return ((n.replace("__", "."), p) for n, p in self.params.items())

    def load_weights(self, weights):
        for name, t in weights:
            if self.skip and name.endswith(self.skip):
                continue
            param, a, b = self.slots[name]
            self.params[param.replace(".", "__")].data[a:b].copy_(t)


def _worker(dirs, skip=None):
    w = SpectrumMergeExtension()
    w.model_runner = SimpleNamespace(model=_FusedModel(load_state_dict(dirs["think"]), skip))
    return w


@pytest.mark.fast
def test_worker_extension_on_a_fused_cpu_model(dirs):
    w = _worker(dirs)
    info = w.spectrum_open_parents({r: str(d) for r, d in _sources(dirs, "emr").items()}, "auto")
    assert info["resident"] == "host" and info["bytes"] == 0  # no GPU memory to hold them
    reply = w.spectrum_apply({"method": "emr", "params": {}, "seed": 0, "lam": 0.4, "cache": True})
    check_replies([reply], "emr lam=0.4")
    assert reply["cache"] is True and set(reply["stats"]) == {"r_direct", "r_think"}
    want = dict(TensorMerger(ParentTensors(_sources(dirs, "emr")), "emr").tensors(0.4, torch.bfloat16))
    live = dict(w.model_runner.model.named_parameters())
    qkv = torch.cat([want[f"model.layers.1.self_attn.{x}_proj.weight"] for x in "qkv"])
    assert torch.equal(live["model.layers.1.self_attn.qkv_proj.weight"], qkv)
    assert reply["sent"] == len(want)
    check_replies([w.spectrum_apply({"role": "direct"})], "direct parent")
    direct = load_state_dict(dirs["direct"])
    assert torch.equal(live["model.norm.weight"], direct["model.norm.weight"])


@pytest.mark.fast
def test_worker_probe_catches_a_swap_that_did_not_land(dirs):
    w = _worker(dirs, skip="o_proj.weight")  # a loader that silently drops these tensors
    w.spectrum_open_parents({r: str(d) for r, d in _sources(dirs, "linear").items()}, "host")
    reply = w.spectrum_apply({"method": "linear", "params": {}, "seed": 0, "lam": 0.5, "cache": False})
    with pytest.raises(RuntimeError, match="layers.0.self_attn.o_proj.weight: engine holds sum"):
        check_replies([reply], "linear lam=0.5")


HAVE_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.gpu
@pytest.mark.skipif(not (HAVE_VLLM and torch.cuda.is_available()),
                    reason="needs vLLM and a CUDA GPU: pip install 'thinking-spectrum[gpu]' on a GPU machine")
def test_vllm_inplace_sweep_swaps_and_probes(tmp_path):
    """One engine, parents on its GPU: parents and merges swap in, the probe agrees, outputs follow."""
    pair = tiny_pair(tmp_path)
    loaded = load_pair(pair, backend="vllm", dtype="float32", batch_size=64,
                       engine={"max_model_len": 128, "gpu_memory_utilization": 0.3, "parents": "device"})
    prompt = loaded.tokenizers["think"].apply_chat_template([{"role": "user", "content": "a1b+2c*3"}],
                                                            tokenize=False, add_generation_prompt=True)
    greedy = SamplingParams(max_new_tokens=24)
    outs = {}
    for what, applier, lam in (("direct", loaded.loader("direct"), 0.0), ("think", loaded.loader("think"), 1.0),
                               ("linear@0.0", loaded.merger("linear", {}, 0), 0.0),
                               ("ties@0.6", loaded.merger("ties", {"density": 0.5}, 0), 0.6)):
        applier.apply(lam)  # raises unless the probe shows the live weights hold what was fed
        outs[what] = loaded.backend.generate([prompt], greedy)[0][0].token_ids
    assert loaded.engine_info[0]["resident"] == "device"
    assert outs["linear@0.0"] == outs["direct"]  # lam=0 is the direct parent exactly
    assert loaded.backend.last_swap[0]["sent"] > 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
@pytest.mark.parametrize("method, params", [("linear", {}), ("dare", {"p": 0.5}), ("ties", {"density": 0.5})])
def test_cuda_merge_equals_cpu_bit_for_bit(dirs, method, params):
    """Elementwise operators use only exactly rounded operations and CPU-drawn DARE masks, so a
    merge computed on the GPU is the CPU's bit for bit (EMR's model-wide sums may differ in ulps)."""
    cpu = TensorMerger(ParentTensors(_sources(dirs, method)), method, params, seed=1)
    gpu = TensorMerger(ParentTensors(_sources(dirs, method), device="cuda"), method, params, seed=1, cache=True)
    for lam in (0.25, 0.7):
        want = dict(cpu.tensors(lam, torch.bfloat16))
        for name, t in gpu.tensors(lam, torch.bfloat16):
            assert t.device.type == "cuda" and torch.equal(t.cpu(), want[name]), (method, lam, name)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
def test_cuda_sweep_fills_the_planned_keys(tmp_path):
    """The transformers in-place sweep on CUDA: parents and states on the GPU, every planned sample
    stored under the same (device-independent) keys as a CPU run would use."""
    cfg = small_config(tiny_pair(tmp_path / "pair"), tmp_path / "cuda.jsonl", device="cuda", dtype="bfloat16")
    records = run_sweep(cfg, progress=False)
    plan = SweepPlan(cfg)
    assert [r.key() for r in records] == [k for job in plan.jobs for k in plan.keys(job)]
    assert all(r.generated_tokens > 0 for r in records)
