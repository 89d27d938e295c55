"""Build SampleRecords by hand for metric and store tests."""
from evals.records import SampleRecord


def make_record(problem_id: str, sample_index: int = 0, *, correct: bool = True, tokens: int = 10,
                reasoning: int = 0, model: str = "m", lam: float | None = None, truncated: bool = False,
                malformed: bool = False, thought: bool = False, fingerprint: str = "fp") -> SampleRecord:
    return SampleRecord(
        model=model, model_fingerprint=fingerprint, pair="tiny", method=None, lam=lam, benchmark="aime24",
        benchmark_version="1", problem_id=problem_id, sample_index=sample_index, prompt_mode="chat_template",
        sampling={"n": 4, "seed": 0}, seed=0, text=f"{problem_id}#{sample_index}", generated_tokens=tokens,
        reasoning_tokens=reasoning, answer_tokens=tokens - reasoning, finish_reason="length" if truncated else "stop",
        truncated=truncated, malformed=malformed, correct=correct, extracted=None, meta={"thought": thought},
    )
