"""The reasoning/answer split: at the LAST </think>, in text and in generated token ids."""
import pytest

from evals.grading.thinking import marker_token_ids, reasoned, split_text, split_tokens

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("text, reasoning, answer, thought", [
    ("plan</think>42", "plan</think>", "42", True),
    ("a</think>b</think>c", "a</think>b</think>", "c", True),  # the last one ends reasoning
    ("just an answer", "", "just an answer", False),
    ("</think>", "</think>", "", True),
])
def test_split_text_at_last_close_tag(text, reasoning, answer, thought):
    s = split_text(text)
    assert (s.reasoning, s.answer, s.thought) == (reasoning, answer, thought)


THINK = 9  # the marker's id in these hand-made id lists


@pytest.mark.parametrize("ids, finish, expect", [
    ([1, 2, 3, THINK, 4, 5], "stop", (4, 2, True, False)),
    ([1, THINK, 2, THINK, 3], "stop", (4, 1, True, False)),  # last marker
    ([1, 2, THINK], "stop", (3, 0, True, False)),
    ([1, 2, 3, 4], "length", (4, 0, False, True)),  # cap hit while thinking: all reasoning
    ([1, 2, 3, 4], "stop", (0, 4, False, False)),  # a direct answer
    ([1, THINK, 2, 3], "length", (2, 2, True, True)),  # answer cut by the cap
    ([], "stop", (0, 0, False, False)),
])
def test_split_tokens(ids, finish, expect):
    s = split_tokens(ids, THINK, finish)
    assert (s.reasoning_tokens, s.answer_tokens, s.thought, s.truncated) == expect
    assert s.reasoning_tokens + s.answer_tokens == len(ids)


@pytest.mark.parametrize("ids, expect_reasoning", [
    ([5, 7, 8, 1, 7, 8, 2], 6),  # multi-token marker (7, 8): last occurrence ends at index 6
    ([5, 7, 1, 8], 0),  # split marker is not a marker
])
def test_split_tokens_multi_token_marker(ids, expect_reasoning):
    assert split_tokens(ids, (7, 8), "stop").reasoning_tokens == expect_reasoning


def test_marker_ids_from_tokenizer(char_tok):
    (tid,) = marker_token_ids(char_tok)  # a special token: one id
    assert tid == char_tok.convert_tokens_to_ids("</think>")
    multi = marker_token_ids(char_tok, ";A:")  # character vocabulary: the encoding
    assert multi == tuple(char_tok.encode(";A:", add_special_tokens=False)) and len(multi) == 3
    assert marker_token_ids(None) is None


@pytest.mark.fast
@pytest.mark.parametrize("text, truncated, expect", [
    ("</think>\n1", False, False),                 # empty think block: a direct answer
    ("\n\n</think>\n\nThe answer is 3", False, False),
    ("<think>\n</think>\n1", False, False),
    ("a7b+30\n</think>\n1", False, True),          # a trace, then the answer
    ("The answer is 3", False, False),             # no marker at all: direct model
    ("a7b+30c*70d+1", True, True),                 # cut off while reasoning
])
def test_reasoned_means_non_empty_reasoning(text, truncated, expect):
    assert reasoned(split_text(text), truncated=truncated) is expect
