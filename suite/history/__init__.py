"""Run history, baselines and regression gates (DESIGN.md "Run history, baselines and
regressions"): a versioned SQLite store of every run, the statistics that compare a run
with its baseline, change points over the stored history, and the offline commands."""
