"""Character-level text corpora: a vocabulary, a held-out split and batches of sequences.

`CharCorpus.pydoc_topics()` is English that ships with Python itself: the help-topic texts of
the standard library's `pydoc_data` package (about 465,000 characters; nothing is downloaded).
Batches are (inputs, targets) windows of integer codes, targets shifted by one character.
"""

import math

import numpy as np

__all__ = ["CharCorpus", "pydoc_topics_text"]


def pydoc_topics_text() -> str:
    """The help topics of `pydoc_data.topics.topics`, in sorted key order, joined by blank lines.
    Its length depends on the Python version (3.11: about 465,000 characters).

    Returns:
        str: the topics' texts, each stripped of surrounding newlines, separated by one blank
        line and ending in a newline. Nothing is downloaded.

    Raises:
        ModuleNotFoundError: a Python built without the standard library's `pydoc_data`.

    Example:
        >>> corpus = CharCorpus(pydoc_topics_text())        # as CharCorpus.pydoc_topics()
    """
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip("\n") for key in sorted(topics)) + "\n"


class CharCorpus:
    """A text encoded as integer codes over its sorted set of characters.

    The last `valid_fraction` of the text (rounded up) is held out as `valid`, the rest is
    `train`; the vocabulary covers both, so every held-out character has a code.

    Attributes `ids`, `train` and `valid` are int64 arrays of shape (n,) of codes in
    [0, vocab_size); `chars` is the sorted list of characters (code -> character).
    `batches(batch_size, seq_len)` yields (inputs, targets) int64 arrays of shape
    (batch_size, seq_len); `streams(split, batch_size)` returns (batch_size, L).

    Raises:
        ValueError: valid_fraction outside (0, 1) or a text of fewer than 4 characters; from
            `encode`, characters outside the vocabulary; from `batches`, a training text too
            short for one batch.
        KeyError: from `streams`, a split other than "train" or "valid".

    Example:
        >>> corpus = CharCorpus.pydoc_topics()
        >>> inputs, targets = next(corpus.batches(batch_size=32, seq_len=64))  # (32, 64) int64
        >>> corpus.decode(corpus.encode("hello"))           # 'hello'
    """

    def __init__(self, text: str, valid_fraction: float = 0.1):
        if not 0.0 < valid_fraction < 1.0:
            raise ValueError(f"CharCorpus: valid_fraction must lie in (0, 1), got {valid_fraction}")
        if len(text) < 4:
            raise ValueError(f"CharCorpus needs a text of at least 4 characters, got {len(text)}")
        self.text = text
        self.chars = sorted(set(text))
        self._codes = {char: code for code, char in enumerate(self.chars)}
        self.ids = np.array([self._codes[char] for char in text], dtype=np.int64)
        cut = len(text) - math.ceil(valid_fraction * len(text))
        self.train, self.valid = self.ids[:cut], self.ids[cut:]

    @classmethod
    def pydoc_topics(cls, valid_fraction: float = 0.1) -> "CharCorpus":
        return cls(pydoc_topics_text(), valid_fraction)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        missing = sorted(set(text) - set(self._codes))
        if missing:
            raise ValueError(f"CharCorpus.encode: characters outside the vocabulary: {missing}")
        return np.array([self._codes[char] for char in text], dtype=np.int64)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(code)] for code in np.ravel(ids))

    def num_batches(self, batch_size: int, seq_len: int) -> int:
        """Batches per epoch: every training window of `seq_len` (+1 target) once, whole
        batches only."""
        windows = (len(self.train) - 1) // seq_len - 1  # one window lost to the random offset
        return max(windows // batch_size, 0)

    def batches(self, batch_size: int, seq_len: int, seed: int = 0, epoch: int = 0):
        """Yield (inputs, targets), int64 arrays (batch_size, seq_len), targets = inputs shifted
        one character on. Each epoch cuts the training text into windows from a random offset
        and visits them in a random order, both drawn from (seed, epoch)."""
        count = self.num_batches(batch_size, seq_len)
        if count == 0:
            raise ValueError(
                f"CharCorpus: the training text ({len(self.train)} characters) is too short for "
                f"one batch of {batch_size} sequences of {seq_len}"
            )
        rng = np.random.default_rng((seed, epoch))
        offset = int(rng.integers(seq_len))
        windows = (len(self.train) - 1) // seq_len - 1
        starts = offset + seq_len * rng.permutation(windows)[:count * batch_size]
        steps = np.arange(seq_len + 1)
        for batch in range(count):
            rows = self.train[starts[batch * batch_size:(batch + 1) * batch_size, None] + steps]
            yield rows[:, :-1], rows[:, 1:]

    def streams(self, split: str, batch_size: int) -> np.ndarray:
        """The split ("train" or "valid") cut into `batch_size` contiguous rows of equal length
        (batch_size, L), for evaluating a model that carries its state along each row; the
        remainder of fewer than `batch_size` characters is dropped."""
        ids = {"train": self.train, "valid": self.valid}[split]
        length = len(ids) // batch_size
        return ids[:length * batch_size].reshape(batch_size, length)
