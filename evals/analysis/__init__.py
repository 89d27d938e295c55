"""Curve analysis, numbers only: from per-sample records (or an outside table) to curves,
intervals and fits. The claims that read these numbers live in `evals.claims`.

    from evals.analysis.table import curves_from_records, curves_from_table
    from evals.claims.catalog import judge_all
    verdicts = judge_all(curves_from_records(records))

Modules, one concern each: points (Point, Curve, method_family), table (builders),
bootstrap (paired resampling), pareto, transition, smoothness, collapse, sparse,
agreement (linear vs SLERP), routing (gain over random routing), summary (per-point
rows), synthetic (constructed curves), cli (`spectrum analyze`).
"""
