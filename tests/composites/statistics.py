"""Composite cases: statistics."""

CASES: list = []
