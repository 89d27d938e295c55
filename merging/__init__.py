"""Merge a thinking and a direct checkpoint at strength `lam` (0 = direct, 1 = thinking).

Operators are pure per-tensor functions registered in `merging.registry` (one module per
method in `merging.methods`, small shared steps in `merging.steps`); the streaming engine
(`merging.engine.merge`) reads and writes safetensors and knows nothing about them; the
in-place path (`merging.inplace.InPlaceMerger`) writes theta(lam) into a loaded model;
`merging.checkpoint.load_state_dict` loads a checkpoint without ever unpickling.
Command line: `spectrum merge --help`.
"""
__version__ = "0.1.0"
