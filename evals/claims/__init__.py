"""The paper's claims as data: which claim applies where (`catalog`), the thresholds and
verdict type (`verdicts`), the judges that turn curves into verdicts (`judges_curve`,
`judges_compare`), the sentences they write (`wording`), and judging plus the report in one
call (`verify`). The numbers they read come from `evals.analysis`.
"""
