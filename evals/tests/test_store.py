"""The append-only results store: reload, duplicates refused, torn last line ignored and repaired."""
import pytest

from evals.store import ResultsStore
from evals.tests.records_factory import make_record as R

pytestmark = pytest.mark.fast


def test_append_and_reload(tmp_path):
    path = tmp_path / "r.jsonl"
    s = ResultsStore(path)
    s.extend([R("p1", 0), R("p1", 1, correct=False)])
    again = ResultsStore(path)
    assert again.records() == s.records() and again.keys() == {R("p1", 0).key(), R("p1", 1).key()}
    assert R("p1", 0) in again and len(again.records(correct=False)) == 1


def test_duplicate_key_refused(tmp_path):
    s = ResultsStore(tmp_path / "r.jsonl")
    s.append(R("p1", 0))
    with pytest.raises(ValueError, match="already stored"):
        s.append(R("p1", 0, correct=False))


def test_torn_last_line_ignored_then_repaired(tmp_path):
    path = tmp_path / "r.jsonl"
    ResultsStore(path).extend([R("p1", 0), R("p1", 1)])
    full = path.read_text()
    path.write_text(full + R("p1", 2).to_json()[:37])  # a write killed half way
    s = ResultsStore(path)
    assert s.torn_tail and len(s) == 2
    s.append(R("p1", 2))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and not ResultsStore(path).torn_tail
    assert [r.sample_index for r in ResultsStore(path).records()] == [0, 1, 2]


def test_corrupt_middle_line_raises(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(R("p1", 0).to_json() + "\n{not json\n" + R("p1", 1).to_json() + "\n")
    with pytest.raises(ValueError, match=r"r.jsonl:2: corrupt record"):
        ResultsStore(path)


def test_summary_table(tmp_path):
    s = ResultsStore(tmp_path / "r.jsonl")
    s.extend([R("p1", 0), R("p2", 0, correct=False)])
    table = s.summary(n_boot=50)
    assert "50.0" in table and "aime24" in table


def test_reopening_parses_only_what_was_appended(tmp_path, monkeypatch):
    # a sweep driver reopens the store per method and round: the second open starts from the
    # first's read and parses only the lines appended since (by any writer)
    from evals.records import SampleRecord

    path = tmp_path / "r.jsonl"
    ResultsStore(path).extend([R("p1", i) for i in range(5)])
    ResultsStore(path)  # this process's read of the 5 lines
    with path.open("a") as f:  # another writer appends
        f.write(R("p2", 0).to_json() + "\n")
    parsed = []
    real = SampleRecord.from_json
    monkeypatch.setattr(SampleRecord, "from_json", staticmethod(lambda raw: parsed.append(raw) or real(raw)))
    again = ResultsStore(path)
    assert len(parsed) == 1 and len(again) == 6 and R("p2", 0) in again
    assert [r.problem_id for r in again.records()] == ["p1"] * 5 + ["p2"]  # file order kept


@pytest.mark.parametrize("rewrite", ["other records, longer", "shorter", "replaced by another file"])
def test_a_rewritten_results_file_is_read_again(tmp_path, rewrite):
    path = tmp_path / "r.jsonl"
    ResultsStore(path).extend([R("p1", i) for i in range(3)])
    assert len(ResultsStore(path)) == 3
    if rewrite == "other records, longer":  # same file, new content from the first byte on
        path.write_text("".join(R("q", i).to_json() + "\n" for i in range(5)))
        want = [("q", i) for i in range(5)]
    elif rewrite == "shorter":
        path.write_text(R("p1", 0).to_json() + "\n")
        want = [("p1", 0)]
    else:
        other = tmp_path / "new.jsonl"
        other.write_text("".join(R("z", i).to_json() + "\n" for i in range(4)))
        other.replace(path)
        want = [("z", i) for i in range(4)]
    assert [(r.problem_id, r.sample_index) for r in ResultsStore(path).records()] == want
