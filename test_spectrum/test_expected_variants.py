"""Known findings and variants: a plain method's finding applies to its `[paper]` variant only
where paper_compat leaves the merge bit-identical on the pair (re-measured here on the tiny
pair), never to a scheduled variant; elsewhere the test and the report say that no known
finding is recorded for the variant."""
import json
import os
from dataclasses import replace

import pytest
import torch
from safetensors.torch import load_file

from evals.claims.catalog import ClaimCase
from evals.method_labels import parse_method_label
from evals.sweep.presets import tiny_dir
from merging.engine import merge
from merging.registry import get_method
from test_spectrum.expected import (EXPECTED_FAILURES, NO_FINDING, PAPER_COMPAT_IDENTICAL, expected_failure,
                                    known_findings, unapplied_finding)
from evals.tests.records_factory import make_record
from test_spectrum.test_paper_compat_option import INI, REPO

pytestmark = pytest.mark.fast
S = "sched:3f2a9c1b7d0e"
T = "synthetic"


def records(method, accs, n=40, mid=0.5):
    """n problems at lams 0, mid, 1 (the parents: 0 and 1), the first acc * n correct."""
    lams = [0.0, mid, 1.0] if method else [0.0, 1.0]
    return [replace(make_record(f"p{p:02d}", correct=p < acc * n, lam=lam, model=f"tiny/{method}@{lam}",
                                fingerprint=f"{method}{lam}", thought=True), method=method, benchmark=T)
            for lam, acc in zip(lams, accs) for p in range(n)]


def _merged(label, paper, tmp_path, lams):
    name, params = parse_method_label(label)
    d = tiny_dir()
    outs = [tmp_path / f"{paper}-{i}" for i in range(len(lams))]
    merge(name, str(d / "direct"), str(d / "think"), str(d / "base") if get_method(name).needs_base else None,
          lams=lams, outs=outs, params=params, progress=False, paper_compat=paper)
    return [load_file(str(o / "model.safetensors")) for o in outs]


@pytest.mark.parametrize("method", sorted({k[2] for k in EXPECTED_FAILURES if k[1] == "tiny"}))
def test_identical_under_paper_compat_exactly_where_recorded(method, tmp_path):
    torch.set_num_threads(1)
    lams = [0.0, 0.3, 0.6, 1.0]
    plain, paper = _merged(method, False, tmp_path, lams), _merged(method, True, tmp_path, lams)
    same = all(torch.equal(a[k], b[k]) for a, b in zip(plain, paper) for k in a)
    assert same == (("tiny", method) in PAPER_COMPAT_IDENTICAL)


@pytest.mark.parametrize("case, applies", [
    (ClaimCase("routing_gain", "tiny", "linear[paper]", T), True),
    (ClaimCase("routing_gain", "tiny", "dare[paper]", T), True),
    (ClaimCase("sparse_degradation", "tiny", "dare[paper]", T, "linear[paper]"), True),
    (ClaimCase("smooth", "tiny", "emr[paper]", T), False),
    (ClaimCase("sparse_degradation", "tiny", "ties(density=0.2)[paper]", T, "linear[paper]"), False),
    (ClaimCase("routing_gain", "tiny", f"linear[{S}]", T), False),
    (ClaimCase("routing_gain", "tiny", f"linear[{S},paper]", T), False),
    (ClaimCase("routing_gain", "overthink", "linear[paper]", T), False),  # measured on tiny only
])
def test_a_variant_gets_its_plain_methods_finding_only_where_the_merges_are_identical(case, applies):
    plain = EXPECTED_FAILURES[(case.claim, "tiny", case.method.split("[")[0], T)]
    reason, note = expected_failure(case), unapplied_finding(case)
    if applies:
        assert reason.startswith(plain) and "bit-identical on tiny" in reason and note is None
    elif case.pair == "tiny":
        assert reason is None and note.startswith(NO_FINDING) and case.method in note
    else:
        assert reason is None and note is None  # overthink's plain linear has no finding either


def test_plain_cases_are_as_recorded():
    key = ("smooth", "tiny", "emr", T)
    assert expected_failure(ClaimCase(*key)) == EXPECTED_FAILURES[key] and unapplied_finding(ClaimCase(*key)) is None
    assert known_findings([ClaimCase("smooth", "tiny", "emr", T), ClaimCase("smooth", "tiny", "emr[paper]", T),
                           ClaimCase("routing_gain", "tiny", "slerp[paper]", T)]).keys() == {
        key, ("routing_gain", "tiny", "slerp[paper]", T)}


def test_a_variant_without_a_finding_fails_saying_so(pytester, monkeypatch):
    """emr[paper] under --paper-compat: its cases run as ordinary tests (no xfail from emr's
    findings); a failing one says so, and the report's settings name the variant."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makeini(INI)
    pytester.makeconftest('pytest_plugins = ["test_spectrum.plugin"]\n')
    pytester.makepyfile(test_inner="from test_spectrum.test_claims import test_claim  # noqa: F401\n")
    results = pytester.path / "results.jsonl"
    # the merge at 0.9: the +70 pts step 0.9 -> 1 is one reference step wide, so smooth judges it
    recs = records(None, [0.2, 0.9]) + records("emr[paper]", [0.2, 0.2, 0.9], mid=0.9)
    results.write_text("".join(r.to_json() + "\n" for r in recs))
    res = pytester.runpytest_inprocess("-m", "fast", "--pair", "tiny", "--judge-only", "--results", str(results),
                                       "--methods", "emr", "--lams", "0,0.9,1", "--n-boot", "20", "-v", "-rf",
                                       "--report-dir", str(pytester.path / "rep"), "--paper-compat")
    out = res.stdout.str()
    assert "test_claim[smooth-tiny-emr[paper]-synthetic] FAILED" in out and "XFAIL" not in out, out
    assert f"[{NO_FINDING} (emr[paper]: the plain emr's finding is not evidence about it" in out
    data = json.loads((pytester.path / "rep" / "latest" / "claims.json").read_text())
    assert data["meta"]["known findings"].startswith(f"emr[paper]: {NO_FINDING}") and data["known"] == []
