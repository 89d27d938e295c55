"""The claim-suite plugin is active whatever rootdir pytest picks: the README's command as
written (no test path), with absolute paths outside the checkout as option values.

pytest chooses its rootdir (and so which conftest.py it loads) before it knows which
arguments are option values, so `--direct /abs/dir` makes /abs its rootdir and our root
conftest is never read. The `pytest11` entry point in pyproject.toml loads the plugin first.
These tests install that entry point as pip would (a dist-info with entry_points.txt made from
pyproject.toml) on PYTHONPATH, and run pytest in a subprocess; the control run, with plugin
autoloading off, shows the failure the entry point removes."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

REPO = Path(__file__).resolve().parents[2]
NAME = "test_spectrum.plugin"


def _entry_points() -> dict[str, str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    return meta["project"]["entry-points"]["pytest11"]


def test_the_entry_point_loads_the_plugin_under_its_module_name():
    assert _entry_points() == {NAME: NAME}   # same name: conftest's `pytest_plugins` entry is then a no-op
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert "test_spectrum" in packages["include"]


def _install(tmp_path) -> dict[str, str]:
    """The environment of a pytest run that has the entry point installed (when autoloading)."""
    site = tmp_path / "site" / "thinking_spectrum_probe-0.1.0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text("Metadata-Version: 2.1\nName: thinking-spectrum-probe\nVersion: 0.1.0\n")
    (site / "entry_points.txt").write_text("[pytest11]\n" + "".join(f"{k} = {v}\n" for k, v in _entry_points().items()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO)])}
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _run(tmp_path, *, autoload: bool) -> subprocess.CompletedProcess:
    env = _install(tmp_path)
    models = {r: tmp_path / "models" / r for r in ("instruct", "thinking", "base")}
    for p in models.values():
        p.mkdir(parents=True)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # --ignore only keeps the collection to the claim suite (seconds, not a minute); a core
    # option spelled with "=", it does not take part in choosing the rootdir
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "-m", "gpu",
           "--ignore=merging", "--ignore=evals", "--ignore=fixtures",
           "--pair", "qwen3-30b-a3b",
           "--direct", str(models["instruct"]), "--think", str(models["thinking"]), "--base", str(models["base"])]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_absolute_option_values_outside_the_checkout(tmp_path):
    done = _run(tmp_path, autoload=True)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-2000:]
    cases = [line for line in done.stdout.splitlines() if "test_claims.py::" in line]
    assert cases and all("qwen3-30b-a3b" in c for c in cases), out[-2000:]
    assert "unrecognized arguments" not in out


def test_without_the_entry_point_the_same_command_is_refused(tmp_path):
    done = _run(tmp_path, autoload=False)
    assert done.returncode == 4 and "unrecognized arguments: --pair" in done.stderr, done.stderr[-2000:]


def test_entry_point_and_root_conftest_together_register_the_plugin_once(tmp_path):
    # a path inside the checkout: rootdir is the checkout, so conftest.py lists the plugin too
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", "conftest.py"]
    done = subprocess.run(cmd, cwd=REPO, env=_install(tmp_path), capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 5 and "no tests collected" in out, out[-2000:]   # 5: nothing to collect, no error
