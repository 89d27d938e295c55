"""Fixtures for the merging tests: tiny Qwen3 families built once per session."""
from __future__ import annotations

import pytest
import torch

from merging.tests.tiny_models import build_family


@pytest.fixture(scope="session")
def tied_bf16(tmp_path_factory):
    """base/direct/think dirs: tied embeddings (no lm_head.weight), bfloat16, many shards."""
    return build_family(tmp_path_factory.mktemp("tied_bf16"), tied=True, dtype=torch.bfloat16)


@pytest.fixture(scope="session")
def untied_f32(tmp_path_factory):
    """base/direct/think dirs: separate lm_head.weight, float32, many shards."""
    return build_family(tmp_path_factory.mktemp("untied_f32"), tied=False, dtype=torch.float32, shard="16KB")


@pytest.fixture(scope="session", params=["tied_bf16", "untied_f32"])
def family(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny SVDs with several MKL threads on a busy 2-core machine take 100x longer."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
