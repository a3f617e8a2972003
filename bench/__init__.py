"""Benchmarks: each case module has ``main(argv) -> int`` and prints a table."""
