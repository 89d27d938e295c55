"""Curve analysis: from per-sample records (or an outside table) to claim verdicts.

    from evals.analysis.table import curves_from_records, curves_from_table
    from evals.analysis.claims import judge_all, Thresholds
    verdicts = judge_all(curves_from_records(records))

Modules, one concern each: points (Point, Curve, method_family), table (builders),
bootstrap (paired resampling), pareto, transition, smoothness, collapse, sparse,
agreement (linear vs SLERP), routing (gain over random routing), summary (per-point
rows), verdicts (Thresholds, Verdict), judges_curve / judges_compare (claim judges),
claims (which claim applies where; judge_all), synthetic (constructed curves), cli
(`spectrum analyze`).
"""
