"""Benchmarks of the xRM platform, reported as numbers and ratios (see docs/benchmarks.md).

Run ``python -m bench.metadata_bench --help``.
"""
