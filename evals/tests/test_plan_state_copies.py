"""The memory plan's merge-state sizes (evals.plan_memory.method_copies, read off the prepared
states by merging.feed.cache_bytes) against hand counts from each method's State: what a state
holds beyond the parents, in float32 copies of the model (bytes / (4 x entries))."""
from __future__ import annotations

import pytest
import torch

from merging.apply import MethodRun, TensorStates
from merging.feed import state_extra_bytes
from merging.parents import ParentTensors
from merging.registry import get_method, list_methods

from evals.plan_memory import method_copies


def state_copies(method, params=None):
    return method_copies(method, tuple(sorted(get_method(method).validate_params(params).items())))

pytestmark = pytest.mark.fast

# method -> (params, copies, why), from the State each method's prepare returns
BY_HAND = {
    "linear": ({}, 0.0, "State(direct, think): views of the parents"),
    "slerp": ({}, 0.0, "direct, think views; omega and cos are floats"),
    "task_arithmetic": ({}, 0.0, "direct, think, base views"),
    "dare": ({"p": 0.2}, 2.0, "two dropped, rescaled float32 task vectors; base a view"),
    "ties": ({"density": 0.2}, 2.0, "two trimmed float32 task vectors; base a view"),
    "emr": ({}, 2.0, "two rescaled, masked float32 unified vectors; base a view"),
    "lore": ({}, 1.0, "one float32 SVT(d/2) shift; direct, think views"),
    "twin": ({}, 1.0, "one float32 TopK(d/2) shift; direct, think views"),
    "surgical": ({}, 1.0, "one int32 ranking key per entry (4 bytes); direct, think views"),
    "override": ({}, 1.0, "as surgical"),
    "keep_direct": ({}, 1.0, "as surgical"),
    "dare_ties": ({"p": 0.2}, 2.0, "dare's two dropped float32 task vectors"),
}


def test_every_registered_method_has_a_hand_count():
    assert sorted(BY_HAND) == sorted(list_methods())


@pytest.mark.parametrize("method", list(BY_HAND))
def test_state_copies_by_hand(method):
    params, copies, why = BY_HAND[method]
    assert state_copies(method, params) == copies, why


@pytest.mark.parametrize("method, params, copies", [
    ("dare", {"p": 0.0}, 2.0),               # undropped task vectors are still float32 copies
    ("ties", {"density": 1.0}, 2.0),
    ("twin", {"mode": "svd"}, 1.0),
    ("keep_direct", {"select": "smallest", "scope": "tensor"}, 1.0),
    ("surgical", {"scope": "tensor"}, 1.0),
])
def test_state_copies_at_other_parameters(method, params, copies):
    assert state_copies(method, params) == copies


@pytest.mark.parametrize("method", ["ties", "emr", "surgical", "linear"])
def test_paper_compat_on_a_tied_model_holds_states_of_the_same_size(method):
    """The plan bills a [paper] label as its plain method: every state of a tied bf16 trio under
    paper_compat (the embedding visited twice) holds the hand count too."""
    gen = torch.Generator().manual_seed(1)
    shapes = {"model.embed_tokens.weight": (24, 8), "model.layers.0.mlp.up_proj.weight": (16, 8)}
    roles = ("direct", "think", "base") if get_method(method).needs_base else ("direct", "think")
    trio = {r: {n: torch.randn(s, generator=gen).to(torch.bfloat16) for n, s in shapes.items()} for r in roles}
    parents = ParentTensors(trio)
    run = MethodRun(method, BY_HAND[method][0], has_base="base" in roles, paper_compat=True,
                    tied=("model.embed_tokens.weight",))
    states = TensorStates(run, parents)
    extra = sum(state_extra_bytes(states.state(n), parents.inputs(n)) for n in parents.names)
    assert extra == BY_HAND[method][1] * 4 * (24 * 8 + 16 * 8)


def test_bad_parameter_is_refused_naming_it():
    with pytest.raises(ValueError, match="'ties' has no parameter 'p'"):
        state_copies("ties", {"p": 0.2})
