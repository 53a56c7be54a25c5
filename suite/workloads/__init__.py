"""Workload scorecards: what a workload needs (profiles/workloads/*.yaml), and whether
each StorageClass of a run is fit, marginal, unfit or not assessed for it."""
