"""Replay of the user and environment errors of issue 12 (and more) through `spectrum`'s one
error path: each case runs `evals.cli.main([...])` in this process and must print exactly one
line `spectrum CMD: error: ...` naming the value and the fix, exit 2 (130 for Ctrl-C), and
write nothing when the error is in the input (every value is checked before any work).

    pytest -m fast evals/tests/test_user_errors.py -q
"""
import errno
import fnmatch
import json
import os
import shutil

import pytest
import torch

from evals import cli
from evals.backends.transformers_backend import TransformersBackend
from evals.records import SampleRecord
from evals.store import ResultsStore
from evals.sweep.presets import tiny_dir

pytestmark = pytest.mark.fast

TINY = tiny_dir()
THINK, DIRECT, BASE = str(TINY / "think"), str(TINY / "direct"), str(TINY / "base")


class Env:
    """A temporary folder with the files the cases point at."""

    def __init__(self, tmp):
        self.t = tmp
        self.results = str(tmp / "r.jsonl")
        self._n = 0
        (tmp / "empty.jsonl").write_text("")
        (tmp / "blank.jsonl").write_text("\n  \n")
        (tmp / "list.yaml").write_text("- pair: tiny\n")
        (tmp / "file").write_text("x")
        (tmp / "rows.jsonl").write_text("[1, 2]\n")
        (tmp / "bad.json").write_text("{bad")
        (tmp / "garbage.parquet").write_bytes(b"\x00garbage")
        self.outside = tmp / "outside.jsonl"  # one per-sample line of an outside harness
        self.outside.write_text(json.dumps({"idx": 0, "question": "q", "gt": "1", "code": ["\\boxed{1}"],
                                            "score": [True]}) + "\n")
        self.labelled = tmp / "ties(dens=0.2)_0.5" / "out.jsonl"  # a run folder named by its label
        self.labelled.parent.mkdir()
        shutil.copy(self.outside, self.labelled)
        self.garbage = tmp / "garbage"  # config.json and a garbage model.safetensors
        self.garbage.mkdir()
        shutil.copy(TINY / "think" / "config.json", self.garbage)
        (self.garbage / "model.safetensors").write_bytes(b"\x07" * 70)
        self.notok = tmp / "notok"  # a real checkpoint without its tokenizer files
        self.notok.mkdir()
        for f in ("config.json", "generation_config.json", "model.safetensors"):
            shutil.copy(TINY / "think" / f, self.notok)
        self.pickle = tmp / "pickle"  # a pickle-only checkpoint (pytorch_model.bin)
        self.pickle.mkdir()
        shutil.copy(TINY / "think" / "config.json", self.pickle)
        torch.save({"w": torch.zeros(1)}, self.pickle / "pytorch_model.bin")

    def cfg(self, extra: str = "", results: str | None = None) -> str:
        """A small tiny-pair sweep config with `extra` lines overriding its keys."""
        base = {"pair": "tiny", "methods": "[linear]", "lams": "[0.0, 1.0]", "benchmarks": "[synthetic]",
                "limit": "2", "results": results or self.results}
        for line in extra.splitlines():
            key = line.split(":", 1)[0].strip()
            base.pop(key, None)
        text = "".join(f"{k}: {v}\n" for k, v in base.items()) + extra + "\n"
        self._n += 1
        path = self.t / f"c{self._n}.yaml"
        path.write_text(text)
        return str(path)

    def store(self, *lines: str) -> str:
        path = self.t / "store.jsonl"
        path.write_text("".join(line + "\n" for line in lines))
        return str(path)


def _record(**over) -> str:
    rec = dict(model="m", model_fingerprint="f", pair="tiny", method="linear", lam=0.5, benchmark="synthetic",
               benchmark_version="1", problem_id="p0", sample_index=0, prompt_mode="raw", sampling={}, seed=0,
               text="x", generated_tokens=3, reasoning_tokens=1, answer_tokens=2, finish_reason="stop",
               truncated=False, malformed=False, correct=True, extracted="1", meta={})
    return json.dumps(json.loads(SampleRecord(**rec).to_json()) | over)  # `over` may break the schema


SWEEP = ["--no-report", "--quiet"]
EVAL = ["--benchmark", "synthetic", "--no-progress", "--max-new-tokens", "4", "--threads", "1"]
MERGE = ["--method", "linear", "--direct", DIRECT, "--think", THINK, "--no-progress"]

# (case, argv from the Env, what the one error line must contain)
CASES = [
    # spectrum sweep: config values, all refused before any work
    ("sweep limit -238", lambda e: ["sweep", e.cfg("limit: -238"), *SWEEP], "limit -238 must be >= 1"),
    ("sweep limit 0", lambda e: ["sweep", e.cfg("limit: 0"), *SWEEP], "limit 0 must be >= 1"),
    ("sweep limit 2.5", lambda e: ["sweep", e.cfg("limit: 2.5"), *SWEEP], "limit must be an integer or null, got 2.5"),
    ("sweep --limit 0", lambda e: ["sweep", e.cfg(), "--limit", "0", *SWEEP], "--limit: limit 0 must be >= 1"),
    ("sweep duplicated lams", lambda e: ["sweep", e.cfg("lams: [0.0, 0.5, 0.5]"), *SWEEP], "lam 0.5 given twice"),
    ("sweep lam 1.5", lambda e: ["sweep", e.cfg("lams: [0.0, 1.5]"), *SWEEP], "lam 1.5 outside [0, 1]"),
    ("sweep lam .nan", lambda e: ["sweep", e.cfg("lams: [0.0, .nan]"), *SWEEP], "must be finite"),
    ("sweep lam abc", lambda e: ["sweep", e.cfg("lams: [0.0, abc]"), *SWEEP], "lams[1] must be a number, got 'abc'"),
    ("sweep repeated label parameter", lambda e: ["sweep", e.cfg("methods: ['ties(density=0.2,density=0.9)']"), *SWEEP],
     "parameter 'density' is given twice"),
    ("sweep unknown method", lambda e: ["sweep", e.cfg("methods: [linaer]"), *SWEEP], "linaer"),
    ("sweep batch_size 0", lambda e: ["sweep", e.cfg("batch_size: 0"), *SWEEP], "batch_size 0 must be >= 1"),
    ("sweep threads 0", lambda e: ["sweep", e.cfg("threads: 0"), *SWEEP], "threads 0 must be >= 1"),
    ("sweep seed abc", lambda e: ["sweep", e.cfg("seed: abc"), *SWEEP], "seed must be an integer, got 'abc'"),
    ("sweep device tpu", lambda e: ["sweep", e.cfg("device: tpu"), *SWEEP], "device 'tpu' is not one of cpu, cuda"),
    ("sweep --device tpu", lambda e: ["sweep", e.cfg(), "--device", "tpu", *SWEEP], "--device: device 'tpu'"),
    ("sweep samples 0", lambda e: ["sweep", e.cfg("samples: {synthetic: 0}"), *SWEEP], "samples 0 must be >= 1"),
    ("sweep sampling n 0", lambda e: ["sweep", e.cfg("sampling: {n: 0}"), *SWEEP], "n must be >= 1"),
    ("sweep 300-character benchmark", lambda e: ["sweep", e.cfg(f"benchmarks: [{'x' * 300}]"), *SWEEP],
     "unknown benchmark 'xxxx"),
    ("sweep results is a directory", lambda e: ["sweep", e.cfg(), "--results", str(e.t), *SWEEP], "is a directory"),
    ("sweep nested typo", lambda e: ["sweep", e.cfg("sampling: {temprature: 0.5}"), *SWEEP],
     "unknown key sampling.temprature; known keys of sampling:"),
    ("sweep wrongly typed value", lambda e: ["sweep", e.cfg("sampling: {max_new_tokens: lots}"), *SWEEP],
     "sampling.max_new_tokens must be an integer, got 'lots'"),
    ("sweep typo in a pair key", lambda e: ["sweep", e.cfg("pairs: [{name: a, direct: x, thinkk: y}]"), *SWEEP],
     "unknown key pairs[0].thinkk; known keys of pairs[0]:"),
    ("sweep unknown key", lambda e: ["sweep", e.cfg("lamz: [0.5]"), *SWEEP], "unknown key lamz; known keys:"),
    ("sweep bad YAML", lambda e: ["sweep", e.cfg("lams: [0.0"), *SWEEP], "cannot read sweep config"),
    ("sweep config not a mapping", lambda e: ["sweep", str(e.t / "list.yaml"), *SWEEP], "is a mapping of keys"),
    ("sweep missing config", lambda e: ["sweep", str(e.t / "none.yaml"), *SWEEP], "none.yaml: cannot read"),
    ("sweep 0-byte data file", lambda e: ["sweep", e.cfg(f"data: {{synthetic: {e.t / 'empty.jsonl'}}}"), *SWEEP],
     "no problems"),
    # spectrum eval: flags checked before the model loads
    ("eval --samples 0", lambda e: ["eval", "--model", THINK, *EVAL, "--samples", "0", "--results", e.results],
     "--samples: samples 0 must be >= 1"),
    ("eval --limit 0", lambda e: ["eval", "--model", THINK, *EVAL, "--limit", "0", "--results", e.results],
     "--limit: limit 0 must be >= 1"),
    ("eval --limit -238", lambda e: ["eval", "--model", THINK, *EVAL, "--limit", "-238", "--results", e.results],
     "--limit: limit -238 must be >= 1"),
    ("eval --lam 5", lambda e: ["eval", "--model", THINK, *EVAL, "--lam", "5", "--results", e.results],
     "--lam: lam 5 outside [0, 1]"),
    ("eval --lam nan", lambda e: ["eval", "--model", THINK, *EVAL, "--lam", "nan", "--results", e.results],
     "--lam: lam #1 must be finite"),
    ("eval 0-byte data", lambda e: ["eval", "--model", THINK, "--benchmark", "aime24", "--data",
                                    str(e.t / "empty.jsonl"), "--results", e.results], "empty.jsonl is empty"),
    ("eval whitespace-only data", lambda e: ["eval", "--model", THINK, "--benchmark", "aime24", "--data",
                                             str(e.t / "blank.jsonl"), "--results", e.results], "blank.jsonl is empty"),
    ("eval non-object data row", lambda e: ["eval", "--model", THINK, "--benchmark", "aime24", "--data",
                                            str(e.t / "rows.jsonl"), "--results", e.results],
     "rows.jsonl: row 1 is a list, not an object of fields"),
    ("eval invalid JSON data", lambda e: ["eval", "--model", THINK, "--benchmark", "aime24", "--data",
                                          str(e.t / "bad.json"), "--results", e.results], "bad.json: not valid JSON"),
    ("eval garbage parquet", lambda e: ["eval", "--model", THINK, "--benchmark", "aime24", "--data",
                                        str(e.t / "garbage.parquet"), "--results", e.results],
     "garbage.parquet: not a readable parquet file"),
    ("eval --batch-size 0", lambda e: ["eval", "--model", THINK, *EVAL, "--batch-size", "0", "--results", e.results],
     "--batch-size: batch_size 0 must be >= 1"),
    ("eval --max-new-tokens 0", lambda e: ["eval", "--model", THINK, "--benchmark", "synthetic", "--max-new-tokens",
                                           "0", "--results", e.results], "max_new_tokens 0 must be >= 1"),
    ("eval --device tpu", lambda e: ["eval", "--model", THINK, *EVAL, "--device", "tpu", "--results", e.results],
     "--device: device 'tpu'"),
    ("eval results is a directory", lambda e: ["eval", "--model", THINK, *EVAL, "--limit", "1", "--results",
                                               str(e.t)], "is a directory; give a results file"),
    ("eval unknown benchmark", lambda e: ["eval", "--model", THINK, "--benchmark", "aime2025", "--results",
                                          e.results], "unknown benchmark 'aime2025'"),
    ("eval missing checkpoint", lambda e: ["eval", "--model", str(e.t / "nope"), *EVAL, "--results", e.results],
     "no such checkpoint folder"),
    ("eval missing tokenizer", lambda e: ["eval", "--model", str(e.notok), *EVAL, "--limit", "1", "--results",
                                          e.results], "no tokenizer (tokenizer.json"),
    ("eval garbage safetensors", lambda e: ["eval", "--model", str(e.garbage), *EVAL, "--limit", "1", "--results",
                                            e.results], "not a safetensors file"),
    ("eval pickle-only checkpoint", lambda e: ["eval", "--model", str(e.pickle), *EVAL, "--limit", "1", "--results",
                                               e.results], "pytorch_model.bin"),
    # spectrum merge
    ("merge --lam 5", lambda e: ["merge", *MERGE, "--lam", "5", "--out", str(e.t / "m")], "lam 5.0 is outside [0, 1]"),
    ("merge repeated lam", lambda e: ["merge", *MERGE, "--lam", "0.5,0.5", "--out", str(e.t / "m")],
     "0.5 given twice"),
    ("merge lam inf", lambda e: ["merge", *MERGE, "--lam", "inf", "--out", str(e.t / "m")], "expected finite"),
    ("merge repeated --param", lambda e: ["merge", "--method", "ties", "--direct", DIRECT, "--think", THINK,
                                          "--base", BASE, "--lam", "0.5", "--param", "density=0.2", "--param",
                                          "density=0.9", "--out", str(e.t / "m")], "--param density given twice"),
    ("merge garbage safetensors", lambda e: ["merge", *MERGE[:2], "--direct", str(e.garbage), "--think", THINK,
                                             "--lam", "0.5", "--out", str(e.t / "m")], "not a safetensors file"),
    ("merge bad YAML config", lambda e: ["merge", "--config", e.cfg("lams: [0.0")], "not valid YAML"),
    ("merge out is a file", lambda e: ["merge", *MERGE, "--lam", "0.5", "--out", str(e.t / "file")],
     "file: already exists; pass force=True (--force)"),
    # spectrum report: the results store
    ("report missing store", lambda e: ["report", str(e.t / "none.jsonl")], "no such results file"),
    ("report folder without stores", lambda e: ["report", str(e.garbage)], "holds no *.jsonl"),
    ("report non-object line", lambda e: ["report", e.store("[1, 2]", _record())], "store.jsonl:1:"),
    ("report correct: 2", lambda e: ["report", e.store(_record(correct=2), _record())], "correct"),
    ("report generated_tokens -5", lambda e: ["report", e.store(_record(generated_tokens=-5), _record())],
     "generated_tokens"),
    ("report corrupt middle line", lambda e: ["report", e.store("{not json", _record())], "store.jsonl:1: corrupt"),
    ("report two benchmark versions", lambda e: ["report", e.store(_record(), _record(benchmark_version="2"))],
     "model 'm' both times) differ in benchmark_version ('1' vs '2')"),
    ("report --report-dir is a file", lambda e: ["report", e.store(*[_record(lam=x, model_fingerprint=str(x)) for x in (0.0, 0.5, 1.0)]),
                                                 "--report-dir", str(e.t / "file"), "--no-plots", "--n-boot", "100"],
     "file: File exists; a file is in the way"),
    # spectrum analyze / import
    ("analyze missing table", lambda e: ["analyze", str(e.t / "none.csv")], "none.csv: No such file or directory"),
    ("analyze 0-byte table", lambda e: ["analyze", str(e.t / "empty.jsonl")], "empty.jsonl: missing column(s)"),
    ("import repeated label parameter", lambda e: ["import", str(e.outside), "--benchmark", "aime24", "--results",
                                                   e.results, "--pair", "p", "--method",
                                                   "ties(density=0.2,density=0.9)", "--lam", "0.5"],
     "parameter 'density' is given twice"),
    ("import pattern label unknown parameter", lambda e: ["import", str(e.labelled), "--benchmark", "aime24",
                                                          "--results", e.results, "--pair", "p", "--pattern",
                                                          r"/(?P<method>ties\([^)]*\))_(?P<lam>[0-9.]+)/"],
     "method 'ties' has no parameter 'dens'; valid: density"),
    ("import missing input", lambda e: ["import", str(e.t / "none.jsonl"), "--benchmark", "aime24", "--results",
                                        e.results, "--pair", "p"], "none.jsonl"),
]


def _one_line(capsys, command: str) -> str:
    # progress bars and third-party warnings (a line plus its indented source line) aside
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.strip() and "it/s]" not in line and "Warning: " not in line and not line.startswith("  ")]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"spectrum {command}: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory):
    return Env(tmp_path_factory.mktemp("user_errors"))


@pytest.mark.parametrize("case, argv, want", CASES, ids=[c[0] for c in CASES])
def test_user_error_is_one_line(shared_env, tmp_path, capsys, case, argv, want):
    env = shared_env
    env.results = str(tmp_path / "r.jsonl")  # this case's own store: it must stay unwritten
    args = argv(env)
    assert cli.main(args) == 2
    line = _one_line(capsys, args[0])
    assert fnmatch.fnmatchcase(line, f"*{want}*") or want in line, line
    assert not os.path.exists(env.results), "nothing is written for an input error"


@pytest.mark.parametrize("err, want", [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "r.jsonl"), "r.jsonl: No space left on device; free space"),
    (OSError(errno.EROFS, os.strerror(errno.EROFS), "r.jsonl"), "r.jsonl: Read-only file system; give a writable"),
    (OSError(errno.EISDIR, os.strerror(errno.EISDIR), "d"), "d: Is a directory; give a file path"),
    (PermissionError(errno.EACCES, os.strerror(errno.EACCES), "r.jsonl"), "r.jsonl: Permission denied; check"),
    (ValueError("line one\nline two"), "line one line two"),
])
def test_environment_error_lines(err, want):
    assert cli.error_line(err).startswith(want)


def test_full_disk_and_read_only_store_through_the_cli(tmp_path, capsys, monkeypatch):
    """A full disk while appending, a read-only store while opening: one line naming the store."""
    real_open = os.open

    def full_write(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def ro_open(path, flags, *a):
        if str(path).endswith("r.jsonl") and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *a)

    results = str(tmp_path / "r.jsonl")
    argv = ["eval", "--model", THINK, *EVAL, "--limit", "1", "--samples", "1", "--results", results]
    for target, fake, want in (("write", full_write, "r.jsonl: No space left on device"),
                               ("open", ro_open, "r.jsonl: Read-only file system")):
        with monkeypatch.context() as m:
            m.setattr(f"evals.store.os.{target}", fake)
            assert cli.main(argv) == 2
        assert want in _one_line(capsys, "eval")


def test_ctrl_c_exits_130_after_flushing(tmp_path, capsys, monkeypatch):
    """Ctrl-C during the second batch: exit 130, one line, the first batch's record kept."""
    real = TransformersBackend.generate
    calls = []

    def interrupted(self, *a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *a, **k)

    monkeypatch.setattr(TransformersBackend, "generate", interrupted)
    results = tmp_path / "r.jsonl"
    argv = ["eval", "--model", THINK, *EVAL, "--limit", "3", "--samples", "1", "--batch-size", "1",
            "--results", str(results)]
    assert cli.main(argv) == 130
    assert "interrupted (Ctrl-C)" in _one_line(capsys, "eval")
    store = ResultsStore(results)
    assert len(store) == 1 and not store.torn_tail
    calls.clear()
    with pytest.raises(KeyboardInterrupt):  # --debug: the traceback, anywhere on the line
        cli.main([*argv, "--debug"])


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ValueError, match="limit 0 must be >= 1"):
        cli.main(["--debug", "sweep", Env(tmp_path).cfg("limit: 0"), *SWEEP])
