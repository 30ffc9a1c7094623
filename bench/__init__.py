"""Benchmarks of the platform: `make bench` runs bench/run.py."""
