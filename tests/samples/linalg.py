"""Samples for linear-algebra primitives."""

from samples import Sample, uniform

SAMPLES = {
    "matmul": [
        Sample((uniform((2, 3)), uniform((3, 4), seed=1)), label="matrix @ matrix"),
        Sample((uniform((3,)), uniform((3,), seed=1)), label="vector @ vector"),
        Sample((uniform((3,)), uniform((3, 2), seed=1)), label="vector @ matrix"),
        Sample((uniform((2, 3)), uniform((3,), seed=1)), label="matrix @ vector"),
        Sample((uniform((2, 2, 3)), uniform((3, 4), seed=1)), label="batched @ matrix"),
        Sample((uniform((1, 2, 3)), uniform((4, 3, 2), seed=1)), label="broadcast batches"),
    ],
}
