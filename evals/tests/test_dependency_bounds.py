"""The declared dependency bounds are the ones tested: the installed transformers satisfies
them, and `device: auto` (device_map="auto") has its `accelerate` in an extra.

The lower bound was found by running evals/tests/test_transformers_backend.py,
test_expert_layout.py and fixtures/tests/test_standins.py against `pip install --target`
copies: 4.51.3 fails (DynamicCache(config=) unknown, from_pretrained ignores dtype=), 4.56.2
passes; 5.24 passes (the backend passes its KV cache as `cache=` there, `past_key_values=` on 4.x:
test_transformers_backend.py checks that no deprecation warning is raised)."""
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.fast

META = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]


def _requirement(name: str, reqs: list[str]) -> Requirement:
    found = [Requirement(r) for r in reqs if Requirement(r).name == name]
    assert len(found) == 1, f"{name} must be declared once in {reqs}"
    return found[0]


@pytest.mark.parametrize("spec, ver, ok", [("transformers>=4.56,<5.40", "4.51.3", False),
                                           ("transformers>=4.56,<5.40", "4.56.2", True),
                                           ("transformers>=4.56,<5.40", "5.24.0", True),
                                           ("transformers>=4.56,<5.40", "5.40.0", False)])
def test_the_bound_admits_exactly_the_checked_versions(spec, ver, ok):
    assert str(_requirement("transformers", META["dependencies"]).specifier) == str(Requirement(spec).specifier)
    assert Requirement(spec).specifier.contains(ver) is ok


def test_the_installed_transformers_is_inside_the_declared_bound():
    spec = _requirement("transformers", META["dependencies"]).specifier
    assert spec.contains(version("transformers")), f"transformers {version('transformers')} outside {spec}"


@pytest.mark.parametrize("extra", ["auto", "gpu"])
def test_device_auto_gets_accelerate_from_its_extras(extra):
    _requirement("accelerate", META["optional-dependencies"][extra])
