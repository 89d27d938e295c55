"""Shared fixtures of the evals tests: the in-memory character tokenizer and tiny Qwen3."""
import pytest

from evals.tests.tiny_lm import char_tokenizer, tiny_qwen3


@pytest.fixture(scope="session")
def char_tok():
    return char_tokenizer()


@pytest.fixture(scope="session")
def tiny_model(char_tok):
    import torch

    torch.set_num_threads(1)
    return tiny_qwen3(char_tok, seed=0)
