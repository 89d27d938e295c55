"""Many writers on one results store: flock around append, repair that never cuts another writer's lines."""
import fcntl
import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from evals.store import ResultsStore
from evals.tests.records_factory import make_record as R

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("fingerprints, expected", [(("fp", "fp"), 24), (("a", "b"), 48)])
def test_two_runner_processes_store_every_record_once(tmp_path, fingerprints, expected):
    """Two real evaluate loops (fake backend, 8 problems x 3 samples, 2 per call, 5 ms a call) on one file."""
    path = tmp_path / "r.jsonl"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-m", "evals.tests.resume_worker", str(path), "0.005", fp], env=env)
             for fp in fingerprints]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    lines = path.read_text().splitlines()
    keys = Counter((d["model_fingerprint"], d["problem_id"], d["sample_index"]) for d in map(json.loads, lines))
    assert len(keys) == expected and set(keys.values()) == {1}  # every sample exactly once, all lines whole
    assert len(ResultsStore(path)) == expected


def test_repair_keeps_lines_another_writer_finished(tmp_path):
    """Store A opens while writer B is mid-line; B finishes and appends more; A's repair must keep all of B's."""
    path = tmp_path / "r.jsonl"
    ResultsStore(path).extend([R("p1", 0), R("p1", 1)])
    line = R("p1", 2).to_json() + "\n"
    with path.open("a") as f:
        f.write(line[:30])  # B has written part of its line
    a = ResultsStore(path)
    assert a.torn_tail and len(a) == 2
    with path.open("a") as f:
        f.write(line[30:] + R("p1", 3).to_json() + "\n")  # B finishes, then appends another
    a.append(R("p1", 4))
    assert [r.sample_index for r in ResultsStore(path).records()] == [0, 1, 2, 3, 4]
    assert len(a) == 5  # A now knows B's records too


def test_foreign_duplicate_is_kept_once(tmp_path):
    """Two stores open on one file both generate p1#0: the first writer's record stays, written once."""
    path = tmp_path / "r.jsonl"
    a, b = ResultsStore(path), ResultsStore(path)
    a.append(R("p1", 0))
    b.extend([R("p1", 0, correct=False), R("p1", 1)])
    recs = ResultsStore(path).records()
    assert [(r.sample_index, r.correct) for r in recs] == [(0, True), (1, True)] and b.skipped_foreign == 1


def test_held_lock_times_out_with_one_line(tmp_path):
    path = tmp_path / "r.jsonl"
    s = ResultsStore(path, lock_timeout_s=0.1)
    with path.open("ab") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        with pytest.raises(TimeoutError, match=r"r.jsonl: another process has held the results lock"):
            s.append(R("p1", 0))
    s.append(R("p1", 0))  # lock released: the write goes through
    assert len(ResultsStore(path)) == 1


def test_directory_as_store_refused(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        ResultsStore(tmp_path)
