"""The method registry: names, duplicates, parameter validation and conversion."""
from __future__ import annotations

import dataclasses

import pytest

from merging.registry import MethodSpec, get_method, list_methods, register

pytestmark = pytest.mark.fast

NEEDS_BASE = {"linear": False, "slerp": False, "task_arithmetic": True, "dare": True, "ties": True,
              "emr": True, "lore": False, "twin": False, "surgical": False, "override": False,
              "keep_direct": False, "dare_ties": True}


def test_the_built_in_methods_are_registered_with_paper_and_base_needs():
    assert list_methods() == list(NEEDS_BASE)
    for name, needs in NEEDS_BASE.items():
        spec = get_method(name)
        assert spec.needs_base is needs
        assert spec.paper.startswith("https://")
        assert spec.description


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        register(dataclasses.replace(get_method("linear")))


def test_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown merge method 'nope'.*linear.*twin"):
        get_method("nope")


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_method("dare").name = "x"  # type: ignore[misc]
    assert isinstance(get_method("dare"), MethodSpec)


@pytest.mark.parametrize("method,given,expect", [
    ("dare", {}, {"p": 0.2, "rescale": "inverse"}),
    ("dare", ["p=0.5", "rescale=l1"], {"p": 0.5, "rescale": "l1"}),
    ("dare", {"p": "0.1"}, {"p": 0.1, "rescale": "inverse"}),
    ("dare", {"p": 0}, {"p": 0.0, "rescale": "inverse"}),
    ("ties", {}, {"density": 1.0}),
    ("lore", {}, {"mu": 0.1}),
    ("twin", ["mode=svd"], {"mask_rate": 0.9, "mode": "svd", "rank_frac": 0.1}),
    ("slerp", {}, {"eps": 0.9995}),
    ("linear", None, {}),
])
def test_validate_params_fills_defaults_and_converts(method, given, expect):
    assert get_method(method).validate_params(given) == expect


@pytest.mark.parametrize("method,given,match", [
    ("dare", {"q": 1}, r"method 'dare' has no parameter 'q'; valid: p \(default 0.2\), rescale"),
    ("linear", {"p": 1}, r"method 'linear' has no parameter 'p'; valid: none"),
    ("dare", {"p": 1.0}, r"method 'dare': p=1.0: must be in \[0, 1\)"),
    ("dare", {"p": "abc"}, r"method 'dare': bad value for 'p'"),
    ("dare", {"p": True}, r"method 'dare': bad value for 'p'"),
    ("dare", {"rescale": "l2"}, r"method 'dare': rescale='l2' is not one of \['inverse', 'l1'\]"),
    ("ties", {"density": 0}, r"method 'ties': density=0.0: must be > 0"),
    ("twin", {"mode": "both"}, r"not one of \['topk', 'svd'\]"),
    ("lore", {"mu": -1}, r"must be >= 0"),
    ("dare", ["p0.3"], r"not of the form k=v"),
])
def test_validate_params_refuses_bad_input(method, given, match):
    with pytest.raises(ValueError, match=match):
        get_method(method).validate_params(given)


@pytest.mark.parametrize("method,given", [
    ("ties", ["density=0.2", "density=0.9"]),
    ("dare", ["p=0.1", "rescale=l1", " p = 0.1"]),  # the same value twice is still a repeat
    ("twin", ["mode=svd", "mode=svd"]),
])
def test_a_repeated_parameter_is_refused(method, given):
    key = given[0].split("=")[0].strip()
    with pytest.raises(ValueError, match=rf"method '{method}': parameter '{key}' is given twice .*give it once"):
        get_method(method).validate_params(given)


@pytest.mark.parametrize("method,params,sparse", [
    ("ties", None, False),  # default density 1.0 trims nothing
    ("ties", {"density": 1.0}, False),
    ("ties", ["density=0.999"], True),
    ("ties", {"density": 0.2}, True),
    ("dare", None, True),  # default p = 0.2
    ("dare", {"p": 0}, False),
    ("dare", {"p": 0.9, "rescale": "l1"}, True),
    ("twin", None, False),  # compresses only the half-difference; the midpoint stays whole
    ("twin", {"mask_rate": 0.99}, False),
    ("linear", None, False), ("slerp", None, False), ("task_arithmetic", None, False),
    ("emr", None, False), ("lore", {"mu": 5.0}, False),
])
def test_each_method_says_whether_it_is_sparse_at_given_parameters(method, params, sparse):
    assert get_method(method).is_sparse(params) is sparse


def test_is_sparse_validates_the_parameters():
    with pytest.raises(ValueError, match="method 'ties': density=0.0: must be > 0"):
        get_method("ties").is_sparse({"density": 0})
