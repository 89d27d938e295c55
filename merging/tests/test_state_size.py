"""merging.state_size against hand counts read off each method's State: what a prepared state
holds beyond the parents, in float32 copies of the model (bytes / (4 x entries))."""
from __future__ import annotations

import pytest

from merging.registry import list_methods
from merging.state_size import state_copies

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
def test_paper_compat_holds_the_same_states(method):
    assert state_copies(method, BY_HAND[method][0], paper_compat=True) == BY_HAND[method][1]


def test_bad_parameter_is_refused_naming_it():
    with pytest.raises(ValueError, match="'ties' has no parameter 'p'"):
        state_copies("ties", {"p": 0.2})
