"""Benchmarks: ``make bench``. Not part of ``make test``."""
