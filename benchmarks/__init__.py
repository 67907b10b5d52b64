"""Reproducible measurements, each runnable as `python -m benchmarks.<name>` (a table, or --json)."""
