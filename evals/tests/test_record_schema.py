"""The record schema: bad types and ranges refused on write and on read, naming file, line and field."""
import dataclasses
import json
import math

import pytest

from evals.records import RecordError, SampleRecord
from evals.store import ResultsStore
from evals.tests.records_factory import make_record as R

pytestmark = pytest.mark.fast

BAD = [
    ("correct", 2), ("correct", "yes"), ("generated_tokens", -5), ("reasoning_tokens", 1.5),
    ("answer_tokens", True), ("lam", math.nan), ("lam", math.inf), ("lam", "0.5"), ("sample_index", "0"),
    ("sample_index", -1), ("seed", 1.5), ("truncated", None), ("malformed", 0), ("problem_id", 7),
    ("method", 3), ("sampling", [1]), ("meta", None),
]


@pytest.mark.parametrize("field, value", BAD)
def test_bad_value_refused_on_write(field, value):
    with pytest.raises(RecordError, match=f"field '{field}'"):
        dataclasses.replace(R("p1", 0), **{field: value})


@pytest.mark.parametrize("field, value", BAD)
def test_bad_value_refused_on_read_naming_file_line_field(tmp_path, field, value):
    path = tmp_path / "r.jsonl"
    d = json.loads(R("p1", 1).to_json())
    d[field] = value
    path.write_text(R("p1", 0).to_json() + "\n" + json.dumps(d) + "\n" + R("p1", 2).to_json() + "\n")
    with pytest.raises(ValueError, match=rf"r.jsonl:2: bad record \(field '{field}'"):
        ResultsStore(path)


@pytest.mark.parametrize("line, message", [("[1, 2]", "expected a JSON object"), ('"x"', "expected a JSON object"),
                                           ('{"model": "m"}', "missing field")])
def test_non_record_lines_named(tmp_path, line, message):
    path = tmp_path / "r.jsonl"
    path.write_text(line + "\n" + R("p1", 0).to_json() + "\n")
    with pytest.raises(ValueError, match=rf"r.jsonl:1: bad record \({message}"):
        ResultsStore(path)


def test_bad_last_line_is_not_mistaken_for_torn(tmp_path):
    """A whole final line that parses but breaks the schema is an error, not a torn write to cut."""
    path = tmp_path / "r.jsonl"
    d = json.loads(R("p1", 1).to_json())
    d["correct"] = 2
    path.write_text(R("p1", 0).to_json() + "\n" + json.dumps(d) + "\n")
    with pytest.raises(ValueError, match=r"r.jsonl:2: bad record \(field 'correct'"):
        ResultsStore(path)


@pytest.mark.parametrize("correct, lam", [(None, None), (False, 0), (True, 0.25), (True, 1.5)])
def test_valid_values_round_trip(correct, lam):
    rec = dataclasses.replace(R("p1", 0), correct=correct, lam=lam)
    assert SampleRecord.from_json(rec.to_json()) == rec
