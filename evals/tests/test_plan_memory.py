"""Memory plans against hand counts of the published Qwen3-4B and Qwen3-30B-A3B configs."""
import pytest

from evals.plan_memory import GB, Setup, advice, param_count, plan, state_copies

pytestmark = pytest.mark.fast

QWEN3_4B = {"hidden_size": 2560, "num_hidden_layers": 36, "num_attention_heads": 32, "num_key_value_heads": 8,
            "head_dim": 128, "intermediate_size": 9728, "vocab_size": 151936, "tie_word_embeddings": True}
QWEN3_30B_A3B = {"hidden_size": 2048, "num_hidden_layers": 48, "num_attention_heads": 32, "num_key_value_heads": 4,
                 "head_dim": 128, "intermediate_size": 6144, "num_experts": 128, "num_experts_per_tok": 8,
                 "moe_intermediate_size": 768, "vocab_size": 151936, "tie_word_embeddings": False}


@pytest.mark.parametrize("cfg, want", [
    # 36 x (2560*4096*2 + 2*2560*1024 + 3*2560*9728 + 2*128 + 2*2560) + 151936*2560 + 2560
    (QWEN3_4B, 36 * (20971520 + 5242880 + 74711040 + 256 + 5120) + 388956160 + 2560),
    # 48 x (2048*4096*2 + 2*2048*512 + 128*3*2048*768 + 128*2048 + 2*128 + 2*2048) + 2*151936*2048 + 2048
    (QWEN3_30B_A3B, 48 * (16777216 + 2097152 + 603979776 + 262144 + 256 + 4096) + 622329856 + 2048),
])
def test_parameter_counts_by_hand(cfg, want):
    assert param_count(cfg) == want


def test_published_sizes():
    assert round(param_count(QWEN3_4B) / 1e9, 2) == 4.02 and round(param_count(QWEN3_30B_A3B) / 1e9, 1) == 30.5


@pytest.mark.parametrize("methods, copies", [(["linear", "slerp"], 0), (["linear", "lore"], 1),
                                             (["ties(density=0.2)", "twin"], 2), (["dare(p=0.9)"], 2)])
def test_state_copies_take_the_largest_method(methods, copies):
    assert state_copies(methods) == copies


@pytest.mark.parametrize("label, copies", [
    ("surgical", 1), ("override(scope=tensor)", 1), ("keep_direct(select=smallest)", 1), ("dare_ties(p=0.5)", 2),
    ("ties[sched:3f2a9c1b7d0e,paper]", 2), ("linear[sched:3f2a9c1b7d0e]", 0), ("surgical[paper]", 1),
    ("lore[paper]", 1),
])
def test_newer_methods_and_tagged_labels_are_billed(label, copies):
    # the states each method keeps (merging.state_size): an int32 ranking key per entry for the
    # top-share methods (their model-wide histogram does not grow with the model), DARE's two
    # float32 task vectors for dare_ties; tags change no state
    assert state_copies([label]) == copies


def test_surgical_states_on_the_4b_are_one_float32_copy():
    n = param_count(QWEN3_4B)
    rows = dict(plan(QWEN3_4B, Setup(80 * GB, batch=1, tokens=1000, methods=("linear", "surgical[paper]"))).rows)
    assert rows["merge states (float32)"] == 4 * n


def test_bad_parameter_in_a_label_is_refused_naming_the_label():
    with pytest.raises(ValueError, match=r"plan: method 'ties\(p=0.2\)'.*no parameter 'p'"):
        state_copies(["ties(p=0.2)"])


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="'magic' is unknown"):
        state_copies(["magic"])


def test_rows_by_hand_for_the_4b_on_80gb():
    n = param_count(QWEN3_4B)
    p = plan(QWEN3_4B, Setup(80 * GB, batch=8, tokens=40512, methods=("ties",)))
    assert dict(p.rows) == {"live model": 2 * n, "parents (direct, think)": 4 * n, "base": 2 * n,
                            "merge states (float32)": 8 * n, "KV cache (8 x 40512 tokens)": 147456 * 40512 * 8}
    assert not p.fits and p.total == pytest.approx(16 * n + 147456 * 40512 * 8)


def test_advice_names_changes_that_each_make_it_fit():
    s = Setup(80 * GB, batch=8, tokens=40512, methods=("ties",))
    tips = advice(QWEN3_4B, plan(QWEN3_4B, s))
    assert "merge_cache: false" in tips and "parents: host" in tips
    batch = int(tips[[t.startswith("batch_size") for t in tips].index(True)].split()[-1])
    assert plan(QWEN3_4B, Setup(80 * GB, batch=batch, tokens=40512, methods=("ties",))).fits
    assert not plan(QWEN3_4B, Setup(80 * GB, batch=batch + 1, tokens=40512, methods=("ties",))).fits


def test_parents_on_the_host_take_base_and_states_with_them():
    rows = dict(plan(QWEN3_4B, Setup(80 * GB, 1, 40512, ("ties",), parents="host")).rows)
    assert rows["parents (direct, think)"] == rows["base"] == rows["merge states (float32)"] == 0.0


def test_tensor_parallel_splits_weights_states_and_kv_heads():
    one = dict(plan(QWEN3_30B_A3B, Setup(80 * GB, 1, 40512, ("lore",))).rows)
    two = dict(plan(QWEN3_30B_A3B, Setup(80 * GB, 1, 40512, ("lore",), tensor_parallel=2)).rows)
    assert all(two[k] == pytest.approx(one[k] / 2) for k in one)
