"""`spectrum analyze` tables: one accuracy unit per table; mixing percent and fractions is refused, naming rows."""
import pytest

from evals.analysis.table import curves_from_table

pytestmark = pytest.mark.fast

HEAD = "method,lam,benchmark,accuracy,mean_tokens,n\n"


@pytest.mark.parametrize("rows, scale", [
    (["direct,0,g,40.0,10,30", "think,1,g,80.0,20,30", "linear,0.5,g,60.0,15,30"], 100.0),
    (["direct,0,g,0.4,10,30", "think,1,g,0.8,20,30", "linear,0.5,g,0.6,15,30"], 1.0),
    (["direct,0,g,0,10,30", "think,1,g,80.0,20,30", "linear,0.5,g,60.0,15,30"], 100.0),  # 0 is 0 in both
])
def test_one_unit_read(tmp_path, rows, scale):
    path = tmp_path / "t.csv"
    path.write_text(HEAD + "\n".join(rows) + "\n")
    (curve,) = curves_from_table(path)
    want = [float(r.split(",")[3]) / scale for r in rows[2:]]
    assert [p.accuracy for p in curve.points] == pytest.approx(want)


def test_percent_parents_with_fraction_merges_refused_naming_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEAD + "direct,0,g,40.0,10,30\nthink,1,g,80.0,20,30\nlinear,0.5,g,0.6,15,30\n"
                    "linear,0.7,g,0.75,15,30\n")
    with pytest.raises(ValueError, match=r"t.csv: accuracies mix percent and fractions: .*t.csv:4, .*t.csv:5 look "
                                         r"like fractions .*t.csv:2 and 1 other\(s\) are percent"):
        curves_from_table(path)
