"""Composite cases: scipy_linalg."""

CASES: list = []
