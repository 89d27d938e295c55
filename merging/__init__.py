"""Merge a thinking and a direct checkpoint at strength `lam` (0 = direct, 1 = thinking).

Operators are pure per-tensor functions registered in `merging.registry` (one module per
method in `merging.methods`, small shared steps in `merging.steps`). One per-tensor driver
(`merging.apply`: a method's state per tensor, its model-wide statistics passes from
`merging.statistics`, the strength handed to `at`) serves three drivers of the I/O: the
streaming engine (`merging.engine.merge`) reads and writes safetensors and knows nothing
about any operator; the in-place path (`merging.inplace.InPlaceMerger`) writes theta(lam)
into a loaded model; the tensor feed (`merging.feed.TensorMerger`) yields (name, tensor)
pairs for engines that map names themselves (vLLM). `merging.parents` opens and checks the
parents held in memory; `merging.checkpoint.load_state_dict` loads a checkpoint without
ever unpickling.
Command line: `spectrum merge --help`.
"""
__version__ = "0.1.0"
