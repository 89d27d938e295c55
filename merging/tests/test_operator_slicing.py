"""Every operator's sliced and in-place paths against its whole-tensor `at`, bit for bit."""
from __future__ import annotations

import pytest
import torch

from merging.apply import MethodRun
from merging.registry import get_method, list_methods

pytestmark = pytest.mark.fast


@pytest.fixture
def trio():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(6, 5, generator=g)
    return base + 0.1 * torch.randn(6, 5, generator=g), base + 0.1 * torch.randn(6, 5, generator=g), base


# -- the elementwise promise: slices give the same bits as the whole tensor ------------------

@pytest.mark.parametrize("method", [m for m in list_methods() if get_method(m).elementwise])
def test_elementwise_methods_slice_exactly(trio, method):
    direct, think, base = trio
    spec = get_method(method)
    base = base if spec.needs_base else None
    driver = MethodRun(method, {}, has_base=base is not None)
    if spec.model_statistics:  # the model (one tensor here) in one slice; lam-dependent ones refined
        driver.gather(lambda previous: [(*(None if x is None else x.reshape(-1) for x in (direct, think, base)),
                                         direct.numel())])
        driver.refine([0.37])

    def cut(a):
        return tuple(None if x is None else x.reshape(-1)[a:a + 7] for x in (direct, think, base))

    # the tensor's own statistics from its slices, then slice after slice from the same streams
    stats = driver.tensor_stats("w", direct.shape, lambda previous: ((*cut(a), direct.numel())
                                                                     for a in range(0, direct.numel(), 7)))
    whole = spec.at(driver.prepare("w", direct, think, base, None, stats), 0.37).reshape(-1)
    gen = driver.generator("w", direct.numel())
    parts = [spec.at(driver.prepare("w", *cut(a), gen, stats), 0.37) for a in range(0, direct.numel(), 7)]
    assert torch.equal(torch.cat(parts), whole)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("lam,scale", [(0.0, 1.0), (0.3, 1.0), (1.0, 1.0), (0.7, 0.5), (-0.4, 2.0)])
@pytest.mark.parametrize("method", ["task_arithmetic", "dare", "lore", "twin"])
def test_at_into_equals_at(dtype, lam, scale, method):
    g = torch.Generator().manual_seed(12)
    d, th, b = (torch.randn(5001, generator=g).to(dtype) for _ in range(3))
    spec = get_method(method)
    params = {"task_arithmetic": {"scale": scale}, "dare": {"p": 0.3}}.get(method, {})
    if method in ("lore", "twin"):  # these keep the parents in their stored dtype (upcast=False)
        state = MethodRun(method, params, has_base=False).prepare("w", d.reshape(3, -1), th.reshape(3, -1), None)
    else:
        state = MethodRun(method, params, has_base=True).prepare("w", d.float(), th.float(), b.float())
    out = torch.empty(state.direct.shape if method in ("lore", "twin") else (5001,), dtype=dtype)
    spec.into(state, lam, out)
    expect = spec.at(state, lam).to(dtype)
    assert torch.equal(out.view(torch.int16 if dtype == torch.bfloat16 else torch.int32),
                       expect.view(torch.int16 if dtype == torch.bfloat16 else torch.int32))
