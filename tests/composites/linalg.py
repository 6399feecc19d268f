"""Composite cases: linalg."""

CASES: list = []
