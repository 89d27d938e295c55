"""A run killed with SIGKILL mid-way resumes to the same records, none duplicated."""
import os
import signal
import subprocess
import sys
import time

import pytest

from evals.store import ResultsStore
from evals.tests import resume_worker

pytestmark = pytest.mark.fast


def _lines(path):
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_resume_after_kill(tmp_path):
    killed = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "evals.tests.resume_worker", str(killed), "0.05"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while _lines(killed) < 6 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, f"worker ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    stored = len(ResultsStore(killed))
    assert 6 <= stored < 24  # killed mid-run

    resumed, fake = resume_worker.run(str(killed))
    clean, _ = resume_worker.run(str(tmp_path / "clean.jsonl"))
    assert resumed == clean and len(resumed) == 24
    assert len(fake.calls) == 24 - stored  # only the missing samples were generated
    on_disk = ResultsStore(killed).records()
    keys = [r.key() for r in on_disk]
    assert len(keys) == len(set(keys)) == 24
    assert sorted(on_disk, key=lambda r: r.key()) == sorted(clean, key=lambda r: r.key())
