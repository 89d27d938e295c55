"""The streaming engine and the in-place merger on tiny random Qwen3 parents."""
from __future__ import annotations

import json

import pytest
import torch

import merging.engine
import merging.statistics
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.output import sweep_outs
from merging.inplace import InPlaceMerger
from merging.registry import get_method, list_methods
from merging.tests.tiny_models import toy_tensors, write_checkpoint

pytestmark = pytest.mark.fast


def parents(dirs, method):
    base = dirs["base"] if get_method(method).needs_base else None
    return dirs["direct"], dirs["think"], base


def assert_same_tensors(a: dict, b: dict):
    assert list(a) == list(b) or sorted(a) == sorted(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert torch.equal(a[name], b[name]), name


@pytest.fixture
def small_chunks(monkeypatch):
    """Make the engine slice every tensor of the tiny models (as it does real ones)."""
    monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", 100)
    monkeypatch.setattr(merging.statistics, "CHUNK_ELEMS", 100)


def test_output_loads_generates_and_carries_its_side_files(family, tmp_path):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "m"
    merge("dare", family["direct"], family["think"], family["base"], lams=[0.3], outs=[out],
          seed=1, progress=False, max_shard_size="6KB")
    model = AutoModelForCausalLM.from_pretrained(out)
    generated = model.generate(torch.tensor([[1, 5, 7, 9]]), max_new_tokens=4, do_sample=False)
    assert generated.shape == (1, 8)
    think_cfg = json.loads((family["think"] / "config.json").read_text())
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["dtype"] == think_cfg["dtype"] and cfg["tie_word_embeddings"] == think_cfg["tie_word_embeddings"]
    assert (out / "chat_template.jinja").read_text() == (family["think"] / "chat_template.jinja").read_text()
    assert (out / "generation_config.json").is_file()
    assert len(list(out.glob("model-*-of-*.safetensors"))) > 1 and (out / "model.safetensors.index.json").is_file()
    prov = json.loads((out / "merge_provenance.json").read_text())
    assert (prov["method"], prov["lam"], prov["seed"], prov["params"]) == ("dare", 0.3, 1, {"p": 0.2, "rescale": "inverse"})
    assert set(prov["inputs"]) == {"direct", "think", "base"}
    assert len({v["fingerprint"] for v in prov["inputs"].values()}) == 3
    merged = load_state_dict(out)
    assert ("lm_head.weight" in merged) == (not think_cfg["tie_word_embeddings"])
    assert list(merged) == list(load_state_dict(family["think"]))


@pytest.mark.parametrize("method", ["dare", "linear"])
def test_identical_across_shard_sizes_and_reader_threads(family, tmp_path, method, monkeypatch):
    d, t, b = parents(family, method)
    outs = []
    for size, slicing, readers in (("3KB", 1 << 18, 1), ("1GB", 64, 3)):
        monkeypatch.setattr(merging.engine, "CHUNK_ELEMS", slicing)
        monkeypatch.setattr(merging.engine, "READ_WORKERS", readers)
        outs += merge(method, d, t, b, lams=[0.4], outs=[tmp_path / size], seed=3, progress=False,
                      max_shard_size=size)
    assert (tmp_path / "1GB" / "model.safetensors").is_file()
    assert len(list((tmp_path / "3KB").glob("*.safetensors"))) > 3
    assert_same_tensors(load_state_dict(outs[0]), load_state_dict(outs[1]))


@pytest.mark.parametrize("method", ["linear", "ties", "emr", "lore"])
def test_sweep_equals_single_merges(tied_bf16, tmp_path, method, small_chunks):
    d, t, b = parents(tied_bf16, method)
    lams = [0.0, 0.35, 1.0]
    swept = merge(method, d, t, b, lams=lams, outs=sweep_outs(tmp_path / "sweep", lams), progress=False)
    assert [p.name for p in swept] == ["lam_0.00", "lam_0.35", "lam_1.00"]
    for lam, out in zip(lams, swept):
        (single,) = merge(method, d, t, b, lams=[lam], outs=[tmp_path / f"single{lam}"], progress=False)
        assert_same_tensors(load_state_dict(out), load_state_dict(single))
        assert json.loads((out / "merge_provenance.json").read_text())["sweep_lams"] == lams


@pytest.mark.parametrize("method", list_methods())
def test_inplace_equals_on_disk(family, tmp_path, method, small_chunks):
    from transformers import AutoModelForCausalLM

    d, t, b = parents(family, method)
    (out,) = merge(method, d, t, b, lams=[0.3], outs=[tmp_path / "m"], seed=2, progress=False)
    target = AutoModelForCausalLM.from_pretrained(family["think"])
    as_dicts = method in ("linear", "dare", "twin")  # parents given as state dicts or as paths
    args = [load_state_dict(x) if as_dicts and x is not None else x for x in (d, t, b)]
    merger = InPlaceMerger(target, *args, method=method, seed=2)
    merger.apply(0.8)
    merger.apply(0.3)  # a sweep returns to the same bits
    disk = load_state_dict(out)
    live = target.state_dict()
    for name, tensor in disk.items():
        assert torch.equal(live[name], tensor), name
    if "lm_head.weight" not in disk:
        assert torch.equal(live["lm_head.weight"], disk["model.embed_tokens.weight"])


def test_inplace_without_cache_matches_and_reports_diagnostics(tied_bf16):
    from transformers import AutoModelForCausalLM

    models = [AutoModelForCausalLM.from_pretrained(tied_bf16["think"]) for _ in range(2)]
    mergers = [InPlaceMerger(m, tied_bf16["direct"], tied_bf16["think"], method="slerp", cache=c)
               for m, c in zip(models, (True, False))]
    for merger in mergers:
        merger.apply(0.6)
    assert_same_tensors(models[0].state_dict(), models[1].state_dict())
    assert 0.0 <= mergers[0].diagnostics()["lerp_fallback_fraction"] <= 1.0


def test_dare_bits_do_not_depend_on_tensor_order_or_files(tied_bf16, tmp_path):
    shuffled = {}
    for role in ("direct", "think", "base"):
        sd = load_state_dict(tied_bf16[role])
        rev = dict(reversed(list(sd.items())))
        cfg = json.loads((tied_bf16[role] / "config.json").read_text())
        shuffled[role] = write_checkpoint(tmp_path / role, rev, cfg, shards=3)
    a = merge("dare", tied_bf16["direct"], tied_bf16["think"], tied_bf16["base"], lams=[0.5],
              outs=[tmp_path / "a"], seed=9, progress=False)
    b = merge("dare", shuffled["direct"], shuffled["think"], shuffled["base"], lams=[0.5],
              outs=[tmp_path / "b"], seed=9, progress=False)
    assert_same_tensors(load_state_dict(a[0]), load_state_dict(b[0]))
    c = merge("dare", tied_bf16["direct"], tied_bf16["think"], tied_bf16["base"], lams=[0.5],
              outs=[tmp_path / "c"], seed=10, progress=False)
    assert not torch.equal(load_state_dict(a[0])["model.embed_tokens.weight"],
                           load_state_dict(c[0])["model.embed_tokens.weight"])


def test_non_float_tensors_copied_and_float_dtype_override(tmp_path):
    d = write_checkpoint(tmp_path / "d", toy_tensors(1))
    t = write_checkpoint(tmp_path / "t", toy_tensors(2), shards=2)
    (out,) = merge("linear", d, t, lams=[0.5], outs=[tmp_path / "o"], dtype="bfloat16", progress=False)
    merged, dd, tt = load_state_dict(out), load_state_dict(d), load_state_dict(t)
    assert torch.equal(merged["d.ids"], tt["d.ids"]) and merged["d.ids"].dtype == torch.int64
    assert merged["a.weight"].dtype == torch.bfloat16
    assert torch.equal(merged["a.weight"], (dd["a.weight"] * 0.5 + tt["a.weight"] * 0.5).bfloat16())
    assert json.loads((out / "config.json").read_text())["dtype"] == "bfloat16"


def test_force_replaces_and_copy_from_chooses_the_parent(tied_bf16, tmp_path):
    out = tmp_path / "m"
    merge("linear", tied_bf16["direct"], tied_bf16["think"], lams=[0.2], outs=[out], progress=False)
    merge("linear", tied_bf16["direct"], tied_bf16["think"], lams=[0.7], outs=[out], progress=False,
          force=True, copy_from="direct")
    assert json.loads((out / "merge_provenance.json").read_text())["lam"] == 0.7
    assert (out / "chat_template.jinja").read_text() == (tied_bf16["direct"] / "chat_template.jinja").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary siblings left


def test_extrapolation_when_allowed(tied_bf16, tmp_path):
    (out,) = merge("linear", tied_bf16["direct"], tied_bf16["think"], lams=[1.5], outs=[tmp_path / "x"],
                   allow_extrapolation=True, progress=False)
    d, t, m = (load_state_dict(p)["model.norm.weight"].float() for p in (tied_bf16["direct"], tied_bf16["think"], out))
    torch.testing.assert_close(m, (d * -0.5 + t * 1.5).bfloat16().float())
