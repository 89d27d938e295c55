"""Merge a thinking and a direct checkpoint at strength `lam` (0 = direct, 1 = thinking).

Operators are pure per-tensor functions registered in `merging.registry`; the streaming
engine (`merging.engine`) reads and writes safetensors and knows nothing about them.
"""
__version__ = "0.1.0"
