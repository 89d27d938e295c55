"""MoE in place: the untied Qwen3-MoE stand-in (per-expert checkpoint tensors) merged into a live
model equals the streaming engine's on-disk merge loaded with from_pretrained, bit for bit, on
whatever transformers is installed (5.x fuses the experts into 3-D parameters, 4.x keeps one
module per expert). The same holds for a parent written by the sweep's loader and the backend's
load_weights, and for the model read back under checkpoint names."""
import pytest
import torch
from transformers import AutoModelForCausalLM

from merging.expert_layout import checkpoint_tensors
from evals.backends.transformers_backend import TransformersBackend
from evals.runner import fingerprint_model
from evals.sweep.live import ParentLoader
from fixtures import standins
from merging.checkpoint import load_state_dict
from merging.engine import merge
from merging.inplace import InPlaceMerger

pytestmark = pytest.mark.fast

PROMPT = torch.tensor([[151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198]])  # a chat turn's ids


@pytest.fixture(scope="module")
def moe():
    torch.set_num_threads(1)
    return standins.trio("moe")


def _load(path):
    return AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.bfloat16).eval()


def _assert_same(live, disk):
    a, b = dict(checkpoint_tensors(live)), dict(checkpoint_tensors(disk))
    assert a.keys() == b.keys() and any(".experts.3.down_proj" in k for k in a)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    with torch.no_grad():
        assert torch.equal(live(input_ids=PROMPT).logits, disk(input_ids=PROMPT).logits)


@pytest.mark.parametrize("method, params, lam", [
    ("linear", {}, 0.3),
    ("ties", {"density": 0.5}, 0.7),
])
def test_in_place_merge_equals_the_on_disk_merge(tmp_path, moe, method, params, lam):
    base = moe["base"] if method == "ties" else None
    (out,) = merge(method, moe["direct"], moe["think"], base, lams=[lam], outs=[tmp_path / "m"],
                   params=params, progress=False)
    live = _load(moe["think"])
    sds = {r: load_state_dict(moe[r]) for r in ("direct", "think", "base")}
    merger = InPlaceMerger(live, sds["direct"], sds["think"], sds["base"] if method == "ties" else None,
                           method=method, params=params)
    merger.apply(lam)
    _assert_same(live, _load(out))


def test_a_parent_written_by_the_loader_equals_from_pretrained(moe):
    backend = TransformersBackend(_load(moe["think"]), _Tok(), device="cpu")
    before = fingerprint_model(backend.model)
    ParentLoader(backend, load_state_dict(moe["direct"])).apply(0.0)
    direct = _load(moe["direct"])
    _assert_same(backend.model, direct)
    assert fingerprint_model(backend.model) == fingerprint_model(direct) != before


def test_an_unknown_name_names_both_sides(moe):
    backend = TransformersBackend(_load(moe["think"]), _Tok(), device="cpu")
    with pytest.raises(ValueError, match=r"'model.layers.0.mlp.experts.4.up_proj.weight'.*4 experts"):
        backend.load_weights({"model.layers.0.mlp.experts.4.up_proj.weight": torch.zeros(8, 16)})
    sd = load_state_dict(moe["direct"])
    sd["model.layers.0.mlp.shared_expert.up_proj.weight"] = torch.zeros(8, 16)
    with pytest.raises(ValueError, match=r"shared_expert.*Qwen3MoeForCausalLM"):
        InPlaceMerger(_load(moe["think"]), sd, sd, method="linear")


class _Tok:
    """The backend needs only the eos/pad ids here (nothing is generated)."""

    eos_token_id, pad_token_id = 151645, 151643
