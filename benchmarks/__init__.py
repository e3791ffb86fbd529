"""Benchmarks: run by make targets, never by the test suite."""
