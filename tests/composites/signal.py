"""Composite cases: signal."""

CASES: list = []
