"""The paper's claims, one test per (claim, pair, method, benchmark).

Cases come from `evals.claims.catalog.plan_claims` (see test_spectrum/plugin.py); each
test reads the verdict of its case from the pair's sweep and passes only when the claim
holds. A failing claim fails its test with the verdict's sentence: a finding, not a bug.
Findings already measured on a configuration are listed in test_spectrum/expected.py and
run as strict xfails (a variant's where its merge equals the plain one's, else the failure says
"no known finding recorded for this variant"). An inconclusive verdict (not enough data to decide) is a skip.

    pytest -m fast                 # the tiny pair on CPU
    pytest -m gpu                  # the Qwen3-4B trio (see README for options)
"""
import pytest

from test_spectrum.expected import unapplied_finding


def test_claim(claim_case, spectrum_suite):
    verdict = spectrum_suite.judge(claim_case)
    if verdict.status == "inconclusive":
        pytest.skip(f"inconclusive: {verdict.message}")
    if verdict.status != "holds":
        note = unapplied_finding(claim_case)  # a variant's: its plain method's finding does not carry over
        pytest.fail(verdict.message + (f" [{note}]" if note else ""), pytrace=False)
