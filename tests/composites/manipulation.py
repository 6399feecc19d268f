"""Composite cases: array manipulation and creation (diff, kron, rot90, append, ...)."""

CASES: list = []
