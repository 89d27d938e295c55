"""Root pytest wiring: markers live in pyproject.toml (strict); this file holds hooks and options only."""
