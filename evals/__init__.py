"""Turn a model into numbers: benchmarks, generation backends, grading, results, analysis."""
__version__ = "0.1.0"
