"""Every bad input is refused with a clear ValueError, and nothing is written."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from merging.checkpoint import load_state_dict, open_checkpoint
from merging.engine import merge
from merging.inplace import InPlaceMerger
from merging.tests.tiny_models import toy_tensors, write_checkpoint
from merging.validate import count_nonfinite

pytestmark = pytest.mark.fast


@pytest.fixture
def toys(tmp_path):
    return {role: write_checkpoint(tmp_path / role, toy_tensors(seed), shards=2 if role == "think" else 1)
            for role, seed in (("direct", 1), ("think", 2), ("base", 3))}


def refused(match, *args, root: Path, **kwargs):
    """merge(...) raises ValueError matching `match` and leaves nothing under root/out."""
    out = root / "out"
    kwargs.setdefault("lams", [0.5])
    kwargs.setdefault("outs", [out / "m"])
    with pytest.raises(ValueError, match=match):
        merge(*args, progress=False, **kwargs)
    assert not out.exists(), sorted(p.name for p in out.iterdir())


def variant(tmp_path, name, change=None, config=None, shards=1):
    tensors = toy_tensors(2)
    if change:
        change(tensors)
    return write_checkpoint(tmp_path / name, tensors, config, shards=shards)


def test_mismatched_shapes(toys, tmp_path):
    bad = variant(tmp_path, "bad", lambda t: t.update({"a.weight": torch.randn(4, 6)}))
    refused(r"bad/model.safetensors: tensor 'a.weight' has shape \[4, 6\] in the think parent but \[6, 4\]",
            "linear", toys["direct"], bad, root=tmp_path)


def test_missing_tensor(toys, tmp_path):
    bad = variant(tmp_path, "bad", lambda t: t.pop("b.bias"))
    refused(r"bad.*: tensor 'b.bias' is missing \(present in .*direct\)", "linear", toys["direct"], bad, root=tmp_path)


def test_different_architectures(toys, tmp_path):
    bad = variant(tmp_path, "bad", config={"model_type": "other", "architectures": ["ToyModel"]})
    refused(r"bad/config.json: model_type='other' but .*direct/config.json has model_type='toy'",
            "linear", toys["direct"], bad, root=tmp_path)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
@pytest.mark.parametrize("method", ["linear", "emr"])  # emr finds it in its statistics pass
def test_nonfinite_parent_refused_unless_allowed(toys, tmp_path, value, method):
    def poison(t):
        t["c.conv"][1, 0, 1] = value

    bad = variant(tmp_path, "bad", poison, shards=2)
    base = toys["base"] if method == "emr" else None
    refused(r"bad/.*: tensor 'c.conv' of the think parent holds 1 NaN/Inf values; pass allow_nonfinite",
            method, toys["direct"], bad, base, root=tmp_path)
    (out,) = merge(method, toys["direct"], bad, base, lams=[0.5], outs=[tmp_path / "ok"],
                   allow_nonfinite=True, progress=False)
    assert json.loads((out / "merge_provenance.json").read_text())["nonfinite_entries"] == {"think:c.conv": 1}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_nonfinite_found_in_reduced_precision_parents(tmp_path, dtype):
    """linear checks its parents as stored (no float32 copy); a float16 slice whose plain sum
    would overflow is still told apart from one holding an Inf."""
    big = torch.full((4096,), 60000.0, dtype=torch.float16)
    assert count_nonfinite(big) == 0
    big[7] = float("inf")
    assert count_nonfinite(big) == 1
    direct, think = ({k: v.to(dtype) if v.is_floating_point() else v for k, v in toy_tensors(seed).items()}
                     for seed in (1, 2))
    think["a.weight"][2, 3] = float("-inf")
    d = write_checkpoint(tmp_path / "direct", direct)
    t = write_checkpoint(tmp_path / "think", think)
    refused(r"think/model.safetensors: tensor 'a.weight' of the think parent holds 1 NaN/Inf values",
            "linear", d, t, root=tmp_path)


@pytest.mark.parametrize("cut", [10, 200])
def test_truncated_safetensors(toys, tmp_path, cut):
    bad = variant(tmp_path, "bad")
    file = bad / "model.safetensors"
    file.write_bytes(file.read_bytes()[:-cut])
    refused(r"bad/model.safetensors: (truncated|header length)", "linear", toys["direct"], bad, root=tmp_path)


class _Evil:
    """A pickle that creates a file when loaded: proof that nothing unpickles it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("as_file", [False, True])
def test_pickle_checkpoint_refused_never_loaded(toys, tmp_path, as_file):
    marker = tmp_path / "pwned"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pytorch_model.bin").write_bytes(pickle.dumps(_Evil(marker)))
    (bad / "config.json").write_text("{}")
    source = bad / "pytorch_model.bin" if as_file else bad
    refused(r"pytorch_model.bin.*never unpickle", "linear", toys["direct"], source, root=tmp_path)
    with pytest.raises(ValueError, match="never unpickle"):
        load_state_dict(source)
    assert not marker.exists()


@pytest.mark.parametrize("lam", [-0.1, 1.01, float("nan"), "x"])
def test_lam_out_of_range(toys, tmp_path, lam):
    refused(r"lam .* (outside \[0, 1\]|not finite|not a number)", "linear", toys["direct"], toys["think"],
            root=tmp_path, lams=[0.5, lam], outs=[tmp_path / "out" / "a", tmp_path / "out" / "b"])


def test_unknown_method_and_parameter(toys, tmp_path):
    refused(r"unknown merge method 'soup'", "soup", toys["direct"], toys["think"], root=tmp_path)
    refused(r"method 'dare' has no parameter 'density'", "dare", toys["direct"], toys["think"], toys["base"],
            params={"density": 0.5}, root=tmp_path)


def test_existing_output_refused_and_untouched(toys, tmp_path):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"existing: already exists; pass force=True"):
        merge("linear", toys["direct"], toys["think"], lams=[0.5], outs=[out], progress=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    # in a sweep, one existing output stops every output
    refused(r"already exists", "linear", toys["direct"], toys["think"], root=tmp_path, lams=[0.1, 0.9],
            outs=[tmp_path / "out" / "a", out])


@pytest.mark.parametrize("method,base,match", [
    ("ties", False, r"method 'ties' needs a base model"),
    ("linear", True, r"method 'linear' does not use a base model"),
])
def test_base_where_needed_only(toys, tmp_path, method, base, match):
    refused(match, method, toys["direct"], toys["think"], toys["base"] if base else None, root=tmp_path)


def test_output_must_not_be_or_hold_an_input(toys, tmp_path):
    with pytest.raises(ValueError, match="is the think parent's directory"):
        merge("linear", toys["direct"], toys["think"], lams=[0.5], outs=[toys["think"]], force=True, progress=False)
    with pytest.raises(ValueError, match="contains the direct parent"):
        merge("linear", toys["direct"], toys["think"], lams=[0.5], outs=[tmp_path], force=True, progress=False)
    assert open_checkpoint(toys["think"]).tensors  # untouched


def test_non_float_tensors_must_match(toys, tmp_path):
    bad = variant(tmp_path, "bad", lambda t: t.update({"d.ids": torch.arange(7) * 2}))
    refused(r"direct/model.safetensors: non-float tensor 'd.ids' of the direct parent differs from the thinking",
            "linear", toys["direct"], bad, root=tmp_path)


def test_mixed_parent_dtypes_need_dtype(toys, tmp_path):
    bad = variant(tmp_path, "bad", lambda t: t.update({"b.bias": t["b.bias"].half()}))
    refused(r"tensor 'b.bias' has dtypes .* choose the output dtype", "linear", toys["direct"], bad, root=tmp_path)
    (out,) = merge("linear", toys["direct"], bad, lams=[0.5], outs=[tmp_path / "ok"], dtype="float32", progress=False)
    assert load_state_dict(out)["b.bias"].dtype == torch.float32


def test_missing_parent_and_empty_dir(toys, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        merge("linear", toys["direct"], tmp_path / "nowhere", lams=[0.5], outs=[tmp_path / "out"], progress=False)
    (tmp_path / "empty").mkdir()
    refused(r"empty: no model weights", "linear", toys["direct"], tmp_path / "empty", root=tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kwargs,match", [
    ({"dtype": "int8"}, "unknown dtype"),
    ({"max_shard_size": "lots"}, "not a size"),
    ({"copy_from": "base"}, r"copy_from='base': choose one of \['direct', 'think'\]"),
    ({"outs": []}, "1 lam values but 0 output directories"),
    ({"device": "nonsense"}, "unknown device 'nonsense'"),
    *([({"device": "cuda"}, "CUDA is not available")] if not torch.cuda.is_available() else []),
])
def test_bad_options(toys, tmp_path, kwargs, match):
    refused(match, "linear", toys["direct"], toys["think"], root=tmp_path, **kwargs)


class _Toy(torch.nn.Module):
    """A target whose state dict has the toy checkpoints' names."""

    def __init__(self, shape=(6, 4)):
        super().__init__()
        self.a = torch.nn.Module()
        self.a.weight = torch.nn.Parameter(torch.zeros(shape))
        self.b = torch.nn.Module()
        self.b.bias = torch.nn.Parameter(torch.zeros(5))
        self.c = torch.nn.Module()
        self.c.conv = torch.nn.Parameter(torch.zeros(3, 2, 2))
        self.d = torch.nn.Module()
        self.d.register_buffer("ids", torch.zeros(7, dtype=torch.int64))


def test_inplace_merges_a_plain_module_and_refuses_bad_input():
    d, t, b = toy_tensors(1), toy_tensors(2), toy_tensors(3)
    target = _Toy()
    merger = InPlaceMerger(target, d, t, method="linear")
    merger.apply(0.25)
    assert torch.equal(target.a.weight, torch.lerp(d["a.weight"], t["a.weight"], 0.25))
    torch.testing.assert_close(target.a.weight.detach(), d["a.weight"] * 0.75 + t["a.weight"] * 0.25,
                               rtol=0, atol=1e-6)
    assert torch.equal(target.d.ids, t["d.ids"])
    with pytest.raises(ValueError, match=r"lam 1.5 is outside \[0, 1\]"):
        merger.apply(1.5)
    with pytest.raises(ValueError, match=r"tensor 'a.weight': direct parent shape \[6, 4\], target \[4, 6\]"):
        InPlaceMerger(_Toy((4, 6)), d, t, method="linear")
    with pytest.raises(ValueError, match="does not use a base model"):
        InPlaceMerger(target, d, t, b, method="lore")
    with pytest.raises(ValueError, match="needs a base model"):
        InPlaceMerger(target, d, t, method="emr")
    with pytest.raises(ValueError, match="the think parent lacks tensor 'b.bias'"):
        InPlaceMerger(target, d, {k: v for k, v in t.items() if k != "b.bias"}, method="linear")
    bad = dict(t, **{"c.conv": t["c.conv"].clone().fill_(float("nan"))})
    with pytest.raises(ValueError, match="tensor 'c.conv' of the think parent holds 12 NaN/Inf"):
        InPlaceMerger(target, d, bad, method="linear")
    before = target.a.weight.clone()
    with pytest.raises(ValueError, match="unknown merge method"):
        InPlaceMerger(target, d, t, method="soup")
    assert torch.equal(target.a.weight, before)
