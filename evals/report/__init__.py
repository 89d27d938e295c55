"""Claim-verification reports: claims.md/json/html and PNG plots under reports/<run-id>/.

    from evals.report import write_report, format_verdict_table
    path = write_report(curves, verdicts, out_root="reports", run_id=None, meta={...})
"""
from evals.report.tables import format_verdict_table
from evals.report.writer import write_report

__all__ = ["format_verdict_table", "write_report"]
