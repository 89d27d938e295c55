"""The merge operators, one module per method; each registers itself in `merging.registry`."""
