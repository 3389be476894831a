"""Benchmarks for the maintenance calendar's hot paths (`make bench`; results in docs/benchmarks.md).

Not tests: they build a large calendar in a database of their own and time the notice scan, the calendar
pages and the daily materialisation against it; then the evidence library, coverage, the SoA PDF and a 200 MB
upload against 200,000 evidence items (benchmarks/evidence_bench.py). See benchmarks/run.py.
"""
