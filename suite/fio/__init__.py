"""fio done right: job sets as data, honest job files, fio JSON parsing, exact merges.

Entry points (docs/internals.md, "fio"): `suite.fio.jobs.parse_fio_section` /
`parse_job_set` and `render_job_file`, `suite.fio.runner.run_job_set` returning a
`PerfResult` (matrix entries, fio.csv rows, pandas frame), `FioUnavailable`.
"""
