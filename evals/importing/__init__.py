"""Turn outside per-sample results (Qwen2.5-Math harness, lm-eval, lighteval) into records
of the results store, re-graded by our graders (`spectrum import`)."""
