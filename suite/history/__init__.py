"""Run history, baselines and regression gates (docs/contracts.md and the
README's nightly section): a versioned SQLite store of every run, the statistics that compare a run
with its baseline, change points over the stored history, and the offline commands."""
