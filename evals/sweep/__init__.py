"""Lam sweeps, in layers whose imports point one way:

    presets, config  <-  weights, plan  <-  live, loading, worker  <-  local, ray_driver  <-  cli

`config` says what to evaluate, `plan` which jobs and store keys that makes (no model
loaded), `worker` runs jobs on one live model per pair, `local` and `ray_driver` drive the
workers in this process or on a Ray cluster, `cli` is `spectrum sweep`.
"""
