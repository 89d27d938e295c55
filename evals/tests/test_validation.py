"""The entry-point validators: limits, samples, lams, data files; one line naming where and the fix."""
import math

import pytest

from evals.validation import check_data_file, check_lams, check_limit, check_samples

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("raw, want", [(None, None), (1, 1), (5, 5), ("7", 7), (3.0, 3)])
def test_limit_ok(raw, want):
    assert check_limit(raw, "cfg: limit") == want


@pytest.mark.parametrize("raw, match", [(0, ">= 1"), (-238, ">= 1"), (2.5, "whole number"), ("abc", "whole number"),
                                        (True, "whole number"), (math.inf, "whole number"), ([1], "whole number")])
def test_limit_refused(raw, match):
    with pytest.raises(ValueError, match=rf"^cfg: limit: .*{match}"):
        check_limit(raw, "cfg: limit")


@pytest.mark.parametrize("raw, ok", [(1, True), (16, True), (0, False), (-1, False), ("x", False)])
def test_samples(raw, ok):
    if ok:
        assert check_samples(raw, "--samples") == int(raw)
    else:
        with pytest.raises(ValueError, match="^--samples: "):
            check_samples(raw, "--samples")


@pytest.mark.parametrize("raw, want", [([0, 0.5, 1], (0.0, 0.5, 1.0)), (["0.1", 0.2], (0.1, 0.2))])
def test_lams_ok(raw, want):
    assert check_lams(raw, "--lams") == want


@pytest.mark.parametrize("raw, match", [
    ([0.5, 0.5], "given twice"), ([0.3, 0.30000000000000004], "given twice"), ([5], "outside"),
    ([-0.1], "outside"), ([math.nan], "finite"), ([math.inf], "finite"), (["x"], "a number"), ([True], "a number"),
    ([], "no lams")])
def test_lams_refused(raw, match):
    with pytest.raises(ValueError, match=f"^--lams: .*{match}"):
        check_lams(raw, "--lams")


def test_lams_extrapolation_when_asked():
    assert check_lams([-0.5, 1.5], "--lams", extrapolate=True) == (-0.5, 1.5)


@pytest.mark.parametrize("content, match", [(None, "does not exist"), ("", "is empty"), ("  \n\n", "is empty"),
                                            ("DIR", "is a directory")])
def test_data_file_refused(tmp_path, content, match):
    p = tmp_path / "data.jsonl"
    if content == "DIR":
        p.mkdir()
    elif content is not None:
        p.write_text(content)
    with pytest.raises(ValueError, match=f"^--data: .*{match}"):
        check_data_file(p, "--data")


def test_data_file_ok(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"id": 1}\n')
    assert check_data_file(p, "--data") == p
