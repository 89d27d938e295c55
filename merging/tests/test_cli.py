"""`spectrum merge`: help, sweeps, YAML configs and one-line errors (exit code 2)."""
from __future__ import annotations

import json
import re

import pytest

from evals.cli import main
from merging.registry import get_method, list_methods
from merging.tests.tiny_models import toy_tensors, write_checkpoint

pytestmark = pytest.mark.fast


@pytest.fixture
def toys(tmp_path):
    return {role: write_checkpoint(tmp_path / role, toy_tensors(seed))
            for role, seed in (("direct", 1), ("think", 2), ("base", 3))}


def provenance(out):
    return json.loads((out / "merge_provenance.json").read_text())


def test_help_lists_every_method_with_params_and_paper(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["merge", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in list_methods():
        spec = get_method(name)
        assert f"\n  {name}" in text and spec.paper in text
        for key, p in spec.params.items():
            assert f"--param {key}={p.default}" in text
    assert "lam_0.10" in text


def test_sweep_writes_one_dir_per_lam(toys, tmp_path, capsys):
    code = main(["merge", "--method", "dare", "--direct", str(toys["direct"]), "--think", str(toys["think"]),
                 "--base", str(toys["base"]), "--lam", "0.1,0.5,0.9", "--param", "p=0.3", "--seed", "4",
                 "--out", str(tmp_path / "sweep"), "--no-progress"])
    assert code == 0
    outs = [tmp_path / "sweep" / f"lam_{x}" for x in ("0.10", "0.50", "0.90")]
    assert [provenance(o)["lam"] for o in outs] == [0.1, 0.5, 0.9]
    assert provenance(outs[0])["params"] == {"p": 0.3, "rescale": "inverse"}
    assert provenance(outs[0])["seed"] == 4
    assert capsys.readouterr().out.splitlines() == [f"lam={x:g}\t{o}" for x, o in zip((0.1, 0.5, 0.9), outs)]


def test_yaml_config_stands_in_for_flags_and_flags_win(toys, tmp_path):
    cfg = tmp_path / "merge.yaml"
    cfg.write_text(
        f"method: dare\ndirect: {toys['direct']}\nthink: {toys['think']}\nbase: {toys['base']}\n"
        f"lam: 0.2\nout: {tmp_path / 'm'}\nparams:\n  p: 0.5\nmax-shard-size: 200B\nprogress: false\n"
    )
    assert main(["merge", "--config", str(cfg), "--lam", "0.6", "--param", "rescale=l1"]) == 0
    prov = provenance(tmp_path / "m")
    assert (prov["lam"], prov["params"], prov["max_shard_bytes"]) == (0.6, {"p": 0.5, "rescale": "l1"}, 200)
    assert len(list((tmp_path / "m").glob("model-*.safetensors"))) > 1


@pytest.mark.parametrize("argv,match", [
    (["--method", "soup"], "unknown merge method 'soup'"),
    (["--method", "linear", "--param", "p=1"], "method 'linear' has no parameter 'p'"),
    (["--method", "dare", "--base", "{base}", "--param", "p=2"], r"p=2.0: must be in \[0, 1\)"),
    (["--method", "dare", "--base", "{base}", "--param", "p"], "expected K=V"),
    (["--method", "linear", "--lam", "1.2"], r"lam 1.2 is outside \[0, 1\]"),
    (["--method", "linear", "--lam", "0.1,abc"], "expected a number or a comma list"),
    (["--method", "linear", "--out", "{direct}"], "is the direct parent's directory"),
    (["--method", "linear", "--config", "{yaml}"], "unknown key 'lamda'"),
])
def test_errors_are_one_line_with_exit_code_2(toys, tmp_path, capsys, argv, match):
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text("lamda: 0.5\n")
    base = ["merge", "--direct", str(toys["direct"]), "--think", str(toys["think"]), "--lam", "0.5",
            "--out", str(tmp_path / "out"), "--no-progress"]
    argv = [a.format(base=toys["base"], direct=toys["direct"], yaml=yaml_file) for a in argv]
    assert main(base + argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spectrum merge: error: ") and "\n" not in err
    assert re.search(match, err), err
    assert not (tmp_path / "out").exists()


def test_missing_required_flag(toys, tmp_path, capsys):
    assert main(["merge", "--method", "linear", "--direct", str(toys["direct"]), "--lam", "0.5",
                 "--out", str(tmp_path / "out")]) == 2
    assert "--think is required" in capsys.readouterr().err


def test_existing_output_needs_force(toys, tmp_path, capsys):
    args = ["merge", "--method", "linear", "--direct", str(toys["direct"]), "--think", str(toys["think"]),
            "--lam", "0.5", "--out", str(tmp_path / "m"), "--no-progress"]
    assert main(args) == 0
    assert main(args) == 2
    assert "already exists; pass force=True (--force)" in capsys.readouterr().err
    assert main(args + ["--force", "--lam", "0.25"]) == 0
    assert provenance(tmp_path / "m")["lam"] == 0.25
