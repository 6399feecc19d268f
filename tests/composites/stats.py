"""Composite cases: stats."""

CASES: list = []
