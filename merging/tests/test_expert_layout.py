"""Checkpoint (per-expert) names <-> live Qwen3-MoE parameters, checked against transformers'
own loader: a model that from_pretrained reads from a per-expert checkpoint must equal one the
mapping writes, and reading either back must give the checkpoint tensors exactly."""
import json

import pytest
import torch
from safetensors.torch import save_file

from merging.expert_layout import checkpoint_names, checkpoint_tensors, live_view, live_views, slot, write

pytestmark = pytest.mark.fast

E, H, I, LAYERS = 4, 32, 8, 2   # 2*I != H, so a transposed layout could not pass by accident


def _config():
    from transformers import Qwen3MoeConfig

    return Qwen3MoeConfig(vocab_size=64, hidden_size=H, intermediate_size=48, moe_intermediate_size=I,
                          num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                          num_experts=E, num_experts_per_tok=2, decoder_sparse_step=1, mlp_only_layers=[],
                          tie_word_embeddings=False, max_position_embeddings=64)


def _model(seed=0):
    from transformers import Qwen3MoeForCausalLM

    torch.manual_seed(seed)
    return Qwen3MoeForCausalLM(_config()).eval()


def _checkpoint(seed=1) -> dict[str, torch.Tensor]:
    """A per-expert state dict of the hub's layout with distinct seeded values per tensor."""
    g = torch.Generator().manual_seed(seed)
    shapes = {"model.embed_tokens.weight": (64, H), "model.norm.weight": (H,), "lm_head.weight": (64, H)}
    for n in range(LAYERS):
        p = f"model.layers.{n}."
        shapes.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                       p + "self_attn.q_proj.weight": (32, H), p + "self_attn.k_proj.weight": (16, H),
                       p + "self_attn.v_proj.weight": (16, H), p + "self_attn.o_proj.weight": (H, 32),
                       p + "self_attn.q_norm.weight": (8,), p + "self_attn.k_norm.weight": (8,),
                       p + "mlp.gate.weight": (E, H)})
        for e in range(E):
            shapes.update({f"{p}mlp.experts.{e}.gate_proj.weight": (I, H), f"{p}mlp.experts.{e}.up_proj.weight": (I, H),
                           f"{p}mlp.experts.{e}.down_proj.weight": (H, I)})
    return {k: torch.randn(s, generator=g) for k, s in shapes.items()}


def test_names_round_trip_to_the_checkpoint_layout():
    assert sorted(checkpoint_names(_model())) == sorted(_checkpoint())


def test_gate_is_the_first_half_and_up_the_second_in_the_fused_layout():
    model, t = _model(), torch.arange(I * H, dtype=torch.float32).reshape(I, H)
    write(model, "model.layers.1.mlp.experts.2.up_proj.weight", t)
    write(model, "model.layers.1.mlp.experts.2.gate_proj.weight", -t)
    write(model, "model.layers.1.mlp.experts.3.down_proj.weight", t.t())
    experts = model.model.layers[1].mlp.experts
    if isinstance(experts, torch.nn.ModuleList):     # transformers 4.x: per-expert modules
        gate, up, down = experts[2].gate_proj.weight, experts[2].up_proj.weight, experts[3].down_proj.weight
    else:                                           # transformers 5.x: (E, 2I, H) and (E, H, I)
        gate, up, down = experts.gate_up_proj[2, :I], experts.gate_up_proj[2, I:], experts.down_proj[3]
    assert torch.equal(gate, -t) and torch.equal(up, t) and torch.equal(down, t.t())


def test_from_pretrained_equals_what_the_mapping_writes(tmp_path):
    from transformers import AutoModelForCausalLM

    ckpt = _checkpoint()
    save_file(ckpt, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    cfg = _config().to_dict()
    cfg["architectures"] = ["Qwen3MoeForCausalLM"]
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    loaded = AutoModelForCausalLM.from_pretrained(str(tmp_path), dtype=torch.float32).eval()
    written = _model(seed=5)
    for name, tensor in ckpt.items():
        write(written, name, tensor)
    assert loaded.state_dict().keys() == written.state_dict().keys()
    for k, v in loaded.state_dict().items():
        assert torch.equal(v, written.state_dict()[k]), k
    back = dict(checkpoint_tensors(loaded))
    assert back.keys() == ckpt.keys() and all(torch.equal(back[k], ckpt[k]) for k in ckpt)


def test_live_views_are_views_in_checkpoint_order():
    model, names = _model(), list(_checkpoint())[::-1]
    pairs = list(live_views(model, names))
    assert [n for n, _ in pairs] == names
    name, v = next(p for p in pairs if ".experts.1.down_proj" in p[0])
    v.data.fill_(7.0)
    assert torch.equal(live_view(model, name), torch.full((H, I), 7.0))


@pytest.mark.parametrize("name, words", [
    ("model.layers.0.mlp.experts.9.gate_proj.weight", ["expert 9", "4 experts", "num_experts"]),
    ("model.layers.0.mlp.shared_expert.gate_proj.weight", ["shared_expert", "Qwen3MoeForCausalLM", "key names"]),
    ("model.layers.7.self_attn.q_proj.weight", ["layers.7", "no place"]),
])
def test_unknown_names_are_one_line_naming_both_sides(name, words):
    with pytest.raises(ValueError) as err:
        slot(_model(), name)
    assert all(w in str(err.value) for w in words) and "\n" not in str(err.value)


def test_wrong_shape_is_refused_and_nothing_is_written():
    model = _model()
    before = live_view(model, "model.layers.0.mlp.experts.0.gate_proj.weight").clone()
    with pytest.raises(ValueError, match=r"shape \(8, 31\).*\(8, 32\)"):
        write(model, "model.layers.0.mlp.experts.0.gate_proj.weight", torch.zeros(I, H - 1))
    assert torch.equal(live_view(model, "model.layers.0.mlp.experts.0.gate_proj.weight"), before)


class _TransposedExperts(torch.nn.Module):
    """The gpt-oss style layout: (E, H, 2I) and (E, I, H), flagged by is_transposed."""

    is_transposed = True

    def __init__(self):
        super().__init__()
        self.gate_up_proj = torch.nn.Parameter(torch.zeros(E, H, 2 * I))
        self.down_proj = torch.nn.Parameter(torch.zeros(E, I, H))


def test_transposed_experts_get_transposed_views():
    model = torch.nn.Module()
    model.mlp = torch.nn.Module()
    model.mlp.experts = _TransposedExperts()
    model = torch.nn.ModuleDict({"layers": torch.nn.ModuleList([model])})
    t = torch.arange(I * H, dtype=torch.float32).reshape(I, H)
    write(model, "layers.0.mlp.experts.1.up_proj.weight", t)
    write(model, "layers.0.mlp.experts.1.down_proj.weight", t.t())
    assert torch.equal(model.layers[0].mlp.experts.gate_up_proj[1, :, I:], t.t())
    assert torch.equal(model.layers[0].mlp.experts.gate_up_proj[1, :, :I], torch.zeros(H, I))
    assert torch.equal(model.layers[0].mlp.experts.down_proj[1], t)
