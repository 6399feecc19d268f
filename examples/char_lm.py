"""A character-level GRU language model on Python's own help texts, then a few sampled lines.

The text is `pydoc_data`'s help topics (shipped with Python, nothing is downloaded); the last
10% is held out. The model is scored in bits per character against a character 3-gram with
add-k smoothing, the classic count-based baseline. `chainrule train --model charlm` is the
full version (checkpoints, curves, LSTM and Transformer variants).
Run: python examples/char_lm.py  (about a minute; --quick: a few seconds)
"""

import argparse
import math

import numpy as np

import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.cli.charlm import CharTrigram, bits_per_char, sample
from chainrule.data import CharCorpus
from chainrule.nn import functional as F


class CharGRU(nn.Module):
    """Embedding -> GRU -> linear head: logits for the next character at every position."""

    def __init__(self, vocab_size, hidden_size, rng):
        super().__init__()
        self.arch, self.context = "gru", None  # what `sample` and `bits_per_char` look at
        self.embedding = nn.Embedding(vocab_size, 32, rng=rng)
        self.rnn = nn.GRU(32, hidden_size, batch_first=True, rng=rng)
        self.head = nn.Linear(hidden_size, vocab_size, rng=rng)

    def forward(self, ids, state=None):
        outputs, state = self.rnn(self.embedding(ids), state)
        return self.head(outputs), state


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="a smaller model, fewer steps")
    args = parser.parse_args(argv)
    steps, hidden = (150, 64) if args.quick else (args.steps, 192)
    corpus = CharCorpus.pydoc_topics()
    baseline = CharTrigram.tuned(corpus.train, corpus.vocab_size)
    baseline_bpc = baseline.bits_per_char(np.concatenate([corpus.train[-2:], corpus.valid]))

    model = CharGRU(corpus.vocab_size, hidden, rng=np.random.default_rng(0))
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    batches = corpus.batches(batch_size=32, seq_len=48, seed=0)
    losses = []
    for _, (inputs, targets) in zip(range(steps), batches, strict=False):
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, corpus.vocab_size), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        losses.append(loss.item())

    model_bpc = bits_per_char(model, corpus)
    text = sample(model, corpus, "The ", length=200, temperature=0.8, seed=0)
    print(f"{steps} steps: training loss {losses[0]:.2f} -> {np.mean(losses[-20:]):.2f} nats/char")
    print(f"held-out bits per character: GRU {model_bpc:.3f}, 3-gram (k = {baseline.k:g}) "
          f"{baseline_bpc:.3f}, uniform {math.log2(corpus.vocab_size):.3f}")
    print(text)
    return {"losses": losses, "model_bpc": model_bpc, "baseline_bpc": baseline_bpc,
            "sample": text}


if __name__ == "__main__":
    main()
