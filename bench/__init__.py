"""Side-by-side benchmarks of chainrule against PyTorch (CPU), HIPS autograd and JAX.

Run `python -m bench` from the repository root (or `make bench`, which builds `.venv-bench` with
the peers installed). Every case runs all libraries in one process with interleaved rounds, so a
slow moment of the machine hits every library alike; ratios are taken per round.
"""
