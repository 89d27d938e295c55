"""Tiny random Qwen3 parents (base, direct, think) saved as sharded HF directories, plus a
writer for hand-made safetensors checkpoints. Shared by the merging tests."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

CHAT_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}<think>\n"


def tiny_config(tied: bool):
    from transformers import Qwen3Config

    return Qwen3Config(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=64,
        tie_word_embeddings=tied, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )


def build_family(root: Path, *, tied: bool, dtype: torch.dtype, shard: str = "8KB") -> dict[str, Path]:
    """base = random init; direct and think = base + 5% noise each (distinct seeds)."""
    from transformers import Qwen3ForCausalLM

    torch.manual_seed(0)
    model = Qwen3ForCausalLM(tiny_config(tied)).to(dtype)
    ref = {k: v.detach().clone() for k, v in model.state_dict().items()}
    dirs = {}
    for i, role in enumerate(("base", "direct", "think")):
        gen = torch.Generator().manual_seed(100 + i)
        with torch.no_grad():
            for name, p in model.state_dict().items():
                scale = 0.0 if role == "base" else 0.05 * float(ref[name].float().std().clamp_min(1e-2))
                p.copy_(ref[name].float() + scale * torch.randn(p.shape, generator=gen))
        out = root / role
        model.save_pretrained(out, max_shard_size=shard)
        (out / "tokenizer_config.json").write_text(json.dumps({"role": role}))
        (out / "chat_template.jinja").write_text(CHAT_TEMPLATE.replace("think", role))
        dirs[role] = out
    return dirs


def write_checkpoint(path: Path, tensors: dict[str, torch.Tensor], config: dict | None = None,
                     shards: int = 1) -> Path:
    """A hand-made checkpoint: tensors split over `shards` files (with an index when > 1)."""
    path.mkdir(parents=True, exist_ok=True)
    names = list(tensors)
    if shards == 1:
        save_file(tensors, str(path / "model.safetensors"), metadata={"format": "pt"})
    else:
        weight_map = {}
        for s in range(shards):
            file = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[s::shards]}
            save_file(part, str(path / file), metadata={"format": "pt"})
            weight_map.update({n: file for n in part})
        (path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    cfg = {"model_type": "toy", "architectures": ["ToyModel"], "hidden_size": 4}
    (path / "config.json").write_text(json.dumps(config if config is not None else cfg))
    return path


def toy_tensors(seed: int, shift: float = 0.0) -> dict[str, torch.Tensor]:
    """A small mixed checkpoint: 2-D, 1-D and 3-D float tensors plus an int buffer."""
    g = torch.Generator().manual_seed(seed)
    return {
        "a.weight": torch.randn(6, 4, generator=g) + shift,
        "b.bias": torch.randn(5, generator=g) + shift,
        "c.conv": torch.randn(3, 2, 2, generator=g) + shift,
        "d.ids": torch.arange(7, dtype=torch.int64),
    }
