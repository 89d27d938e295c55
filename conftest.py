"""Root pytest wiring: markers live in pyproject.toml (strict); this file holds hooks and options only.

The claim suite's options, parametrization and report hooks come from test_spectrum/plugin.py.
"""
pytest_plugins = ["test_spectrum.plugin", "pytester"]
