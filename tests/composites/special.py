"""Composite cases: special."""

CASES: list = []
