"""`chainrule train --model charlm`: a character-level language model on Python's help topics.

A GRU (or LSTM, or a causal Transformer encoder) reads characters of the `pydoc_data` help
texts and predicts the next one. It is scored in bits per character on the held-out last 10%,
against a character 3-gram model with add-k smoothing fitted in the same run, and samples a few
lines at the end. Checkpoints and curves are written as the digits runs write them.
"""

import itertools
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.cli.train import (
    OPTIMIZERS,
    _checkpoint_arrays,
    _restore,
    check_finite,
    progress_bar,
    save_checkpoint_on_interrupt,
    save_two_panels,
)
from chainrule.data.text import CharCorpus
from chainrule.errors import require_extra
from chainrule.io import load_arrays, save_arrays
from chainrule.nn import functional as F

__all__ = ["CharLM", "CharTrigram", "CharLMResult", "bits_per_char", "sample", "train_charlm"]

ARCHS = ("gru", "lstm", "transformer")
DEFAULTS = {"epochs": 6, "batch_size": 32, "seq_len": 64}
# The Transformer's step costs about 2.5 times the GRU's at half the width (measured on 2 cores).
DEFAULT_HIDDEN = {"gru": 256, "lstm": 256, "transformer": 128}
CLIP_NORM = 1.0
LN2 = math.log(2.0)


# ----- the 3-gram baseline ---------------------------------------------------------------------
class CharTrigram:
    """P(c | a b) = (n(a b c) + k) / (n(a b) + k V): trigram counts over a V-character
    vocabulary with add-k smoothing (k = 1 is Laplace's rule)."""

    def __init__(self, vocab_size: int, k: float = 1.0):
        self.vocab_size, self.k = int(vocab_size), float(k)
        self.trigrams = np.zeros(self.vocab_size ** 3, dtype=np.int64)
        self.contexts = np.zeros(self.vocab_size ** 2, dtype=np.int64)

    def fit(self, ids) -> "CharTrigram":
        codes = self._codes(ids)
        self.trigrams = np.bincount(codes, minlength=self.vocab_size ** 3)
        self.contexts = self.trigrams.reshape(-1, self.vocab_size).sum(axis=1)
        return self

    def bits_per_char(self, ids) -> float:
        """Mean -log2 P(ids[i] | ids[i-2], ids[i-1]) over i >= 2: prepend the two characters
        before a text to score all of it."""
        codes = self._codes(ids)
        numerators = self.trigrams[codes] + self.k
        denominators = self.contexts[codes // self.vocab_size] + self.k * self.vocab_size
        return float(-np.mean(np.log2(numerators / denominators)))

    @classmethod
    def tuned(cls, train_ids, vocab_size: int, ks=(1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0),
              tune_fraction: float = 0.1) -> "CharTrigram":
        """Pick k by bits per character on the last `tune_fraction` of `train_ids` with counts
        from the rest, then refit on all of it. `tuning` holds {k: bits per character}."""
        cut = len(train_ids) - math.ceil(tune_fraction * len(train_ids))
        probe = cls(vocab_size).fit(train_ids[:cut])
        tuning = {}
        for k in ks:
            probe.k = float(k)
            tuning[float(k)] = probe.bits_per_char(train_ids[cut - 2:])
        best = min(tuning, key=tuning.get)
        model = cls(vocab_size, best).fit(train_ids)
        model.tuning = tuning
        return model

    def _codes(self, ids):
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) < 3:
            raise ValueError(f"CharTrigram needs at least 3 characters, got {len(ids)}")
        return (ids[:-2] * self.vocab_size + ids[1:-1]) * self.vocab_size + ids[2:]


# ----- the network -----------------------------------------------------------------------------
class CharLM(nn.Module):
    """Embedding -> GRU, LSTM or causal Transformer encoder -> linear head over the vocabulary.

    forward(ids (B, T) integers, state=None) returns (logits (B, T, V), state): the recurrent
    state to carry into the next chunk of the same streams (None for the Transformer, which
    sees at most `context` characters, through learned position embeddings).
    """

    def __init__(self, vocab_size: int, arch: str = "gru", hidden_size: int = 256,
                 num_layers: int = 0, context: int = 64, heads: int = 4, rng=None):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"CharLM: arch must be one of {ARCHS}, got {arch!r}")
        rng = np.random.default_rng(rng)
        self.arch, self.context = arch, int(context)
        num_layers = num_layers or (2 if arch == "transformer" else 1)
        embedding_dim = hidden_size if arch == "transformer" else min(64, hidden_size)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, rng=rng)
        if arch == "transformer":
            self.embedding.weight.data *= 0.1  # N(0, 1) rows would drown the positions at first
            self.position = nn.Embedding(self.context, hidden_size, rng=rng)
            self.position.weight.data *= 0.1
            layer = nn.TransformerEncoderLayer(hidden_size, heads, 4 * hidden_size, dropout=0.0,
                                               batch_first=True, norm_first=True, rng=rng)
            self.encoder = nn.TransformerEncoder(layer, num_layers)
            self.norm = nn.LayerNorm(hidden_size)
        else:
            recurrent = nn.GRU if arch == "gru" else nn.LSTM
            self.rnn = recurrent(embedding_dim, hidden_size, num_layers, batch_first=True,
                                 rng=rng)
        self.head = nn.Linear(hidden_size, vocab_size, rng=rng)

    def forward(self, ids, state=None):
        x = self.embedding(ids)
        if self.arch == "transformer":
            steps = np.shape(ids)[1]
            if steps > self.context:
                raise ValueError(f"CharLM: the Transformer sees at most {self.context} "
                                 f"characters at once, got {steps}")
            x = self.norm(self.encoder(x + self.position(np.arange(steps)), is_causal=True))
            return self.head(x), None
        x, state = self.rnn(x, state)
        return self.head(x), state


def bits_per_char(model: CharLM, corpus: CharCorpus, split: str = "valid",
                  batch_size: int = 64, chunk: int = 64) -> float:
    """Mean -log2 P(next character) over `split`, cut into `batch_size` streams read in chunks;
    a recurrent model carries its state from one chunk to the next (the Transformer starts each
    chunk afresh, as it was trained)."""
    model.train(False)  # evaluation mode: dropout off, norms use their running statistics
    streams = corpus.streams(split, batch_size)
    total, count, state = 0.0, 0, None
    with cr.no_grad():
        for start in range(0, streams.shape[1] - 1, chunk):
            inputs = streams[:, start:start + chunk]
            targets = streams[:, start + 1:start + chunk + 1]
            inputs = inputs[:, :targets.shape[1]]
            logits, state = model(inputs, state)
            total += F.cross_entropy(logits.reshape(-1, corpus.vocab_size), targets.reshape(-1),
                                     reduction="sum").item()
            count += targets.size
    return total / count / LN2


def sample(model: CharLM, corpus: CharCorpus, prime: str = "The ", length: int = 300,
           temperature: float = 0.8, seed: int = 0) -> str:
    """`prime` followed by `length` characters drawn one at a time from softmax(logits / T),
    with a generator seeded by `seed` (the same seed gives the same text)."""
    if temperature <= 0:
        raise ValueError(f"sample: temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    model.train(False)  # evaluation mode: dropout off, norms use their running statistics
    ids = list(corpus.encode(prime))
    state, pending = None, ids
    with cr.no_grad():
        for _ in range(length):
            if model.arch == "transformer":
                logits, _ = model(np.asarray([ids[-model.context:]]))
            else:
                logits, state = model(np.asarray([pending]), state)
            scores = logits.numpy()[0, -1].astype(np.float64) / temperature
            probabilities = np.exp(scores - scores.max())
            code = int(rng.choice(len(probabilities), p=probabilities / probabilities.sum()))
            ids.append(code)
            pending = [code]
    return corpus.decode(ids)


# ----- the run -----------------------------------------------------------------------------------
@dataclass
class CharLMResult:
    valid_bpc: float
    baseline_bpc: float
    checkpoint: str
    curves: str
    samples: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    seconds: float = 0.0
    seconds_per_step: float = 0.0


def describe(config) -> str:
    if config.arch == "transformer":
        return f"causal transformer encoder, 2 layers of width {config.hidden_size}, 4 heads"
    return f"{config.arch} {config.hidden_size}"


def train_charlm(config) -> CharLMResult:
    """Train as `chainrule train --model charlm` does (`config` is a TrainConfig); raises
    KeyboardInterrupt after saving a checkpoint."""
    tqdm = require_extra("tqdm", "train").tqdm
    require_extra("matplotlib", "train")
    began_run, began_cpu = time.perf_counter(), time.process_time()
    corpus = _load_corpus(config.text)
    baseline = CharTrigram.tuned(corpus.train, corpus.vocab_size)
    baseline_bpc = baseline.bits_per_char(np.concatenate([corpus.train[-2:], corpus.valid]))
    model = CharLM(corpus.vocab_size, config.arch, config.hidden_size, context=config.seq_len,
                   rng=config.seed)
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), config.lr)
    steps = config.steps_per_epoch or corpus.num_batches(config.batch_size, config.seq_len)
    scheduler = _schedule(optimizer, steps * config.epochs)
    checkpoint = os.path.join(config.out, "model.npz")
    start, history = 0, {"train_loss": [], "train_bpc": [], "valid_bpc": [], "seconds": []}
    if config.resume is not None:
        start, history = _restore(config.resume or checkpoint, config, model, optimizer,
                                  scheduler, _meta(config, corpus))
    source = config.text or "pydoc_data help topics"
    print(f"{source} ({len(corpus.train):,} train / {len(corpus.valid):,} held-out characters, "
          f"{corpus.vocab_size} symbols)  model: charlm {describe(config)}  optimizer: "
          f"{config.optimizer} lr {config.lr:g}" + (f"  resumed at epoch {start}" if start else ""))
    print(f"3-gram baseline (add-k, k = {baseline.k:g} tuned on the last 10% of train): "
          f"{baseline_bpc:.3f} bits/char held out", flush=True)
    snapshot = _snapshot(config, corpus, model, optimizer, scheduler, start, history,
                         baseline_bpc)
    trained_steps, training_seconds = 0, 0.0
    with save_checkpoint_on_interrupt(checkpoint, lambda: snapshot):
        for epoch in range(start + 1, config.epochs + 1):
            epoch_began = time.perf_counter()
            loss = _train_one_epoch(model, corpus, optimizer, scheduler, config, epoch, steps,
                                    progress_bar(tqdm, steps, f"epoch {epoch}/{config.epochs}",
                                                 config.progress))
            seconds = time.perf_counter() - epoch_began
            trained_steps, training_seconds = trained_steps + steps, training_seconds + seconds
            valid_bpc = bits_per_char(model, corpus, chunk=config.seq_len)
            for key, value in zip(history, (loss, loss / LN2, valid_bpc, seconds), strict=True):
                history[key].append(value)
            print(f"epoch {epoch}/{config.epochs}  loss {loss:.3f}  train {loss / LN2:.3f} "
                  f"bits/char  held-out {valid_bpc:.3f} bits/char  ({seconds:.1f} s, "
                  f"{1000 * seconds / steps:.0f} ms/step)", flush=True)
            snapshot = _snapshot(config, corpus, model, optimizer, scheduler, epoch, history,
                                 baseline_bpc)
            save_arrays(checkpoint, snapshot)
    save_arrays(checkpoint, snapshot)
    valid_bpc = history["valid_bpc"][-1] if history["valid_bpc"] else bits_per_char(
        model, corpus, chunk=config.seq_len)
    primes = [p if set(p) <= set(corpus.chars) else corpus.text[0] for p in ("The ", "A ")]
    samples = [sample(model, corpus, prime, length=160, seed=config.seed + i)
               for i, prime in enumerate(primes)]
    print("samples (temperature 0.8):")
    for text in samples:
        print("  | " + text.replace("\n", "\n  | "))
    curves = save_bpc_curves(history, baseline_bpc, os.path.join(config.out, "curves.png"),
                             f"charlm {describe(config)} on {source}")
    seconds, cpu_seconds = time.perf_counter() - began_run, time.process_time() - began_cpu
    verdict = "below" if valid_bpc < baseline_bpc else "NOT below"
    print(f"held-out {valid_bpc:.3f} bits/char, {verdict} the 3-gram's {baseline_bpc:.3f} · "
          f"checkpoint {checkpoint} · curves {curves}  ({seconds:.1f} s, {cpu_seconds:.1f} s CPU)")
    per_step = training_seconds / trained_steps if trained_steps else 0.0
    return CharLMResult(valid_bpc, baseline_bpc, checkpoint, curves, samples, history,
                        seconds, per_step)


def _load_corpus(path):
    if not path:
        return CharCorpus.pydoc_topics()
    with open(path, encoding="utf-8") as handle:
        return CharCorpus(handle.read())


def _schedule(optimizer, total_steps):
    """Linear warm-up over the first 5% of steps (at most 100), then cosine decay to zero."""
    if total_steps < 2:
        return optim.LambdaLR(optimizer, lambda step: 1.0)
    warmup = max(1, min(100, total_steps // 20))
    return optim.lr_scheduler.warmup_cosine(optimizer, warmup, total_steps)


def _train_one_epoch(model, corpus, optimizer, scheduler, config, epoch, steps, bar):
    """Mean cross-entropy (nats per character) over the epoch's `steps` batches."""
    model.train()
    parameters = list(model.parameters())
    total = 0.0
    for step, (inputs, targets) in enumerate(_epoch_batches(corpus, config, epoch, steps), 1):
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, corpus.vocab_size), targets.reshape(-1))
        value = check_finite(loss.item(), epoch, step, optimizer)
        optimizer.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(parameters, CLIP_NORM)
        optimizer.step()
        scheduler.step()
        total += value
        bar.set_postfix_str(f"loss {total / step:.3f}  {total / step / LN2:.2f} bits/char",
                            refresh=False)
        bar.update(1)
    bar.close()
    return total / steps


def _epoch_batches(corpus, config, epoch, steps):
    """`steps` batches; a `--steps-per-epoch` beyond one pass over the text starts further
    passes, each shuffled from its own (seed, key)."""
    passes = (corpus.batches(config.batch_size, config.seq_len, config.seed,
                             epoch + 100_000 * extra) for extra in itertools.count())
    return itertools.islice(itertools.chain.from_iterable(passes), steps)


def _meta(config, corpus):
    return {"meta.arch": config.arch, "meta.hidden_size": config.hidden_size,
            "meta.seq_len": config.seq_len, "meta.vocab": "".join(corpus.chars)}


def _snapshot(config, corpus, model, optimizer, scheduler, epoch, history, baseline_bpc):
    arrays = _checkpoint_arrays(config, model, optimizer, scheduler, epoch, history)
    arrays.update({key: np.asarray(value) for key, value in _meta(config, corpus).items()})
    arrays["meta.baseline_bpc"] = np.asarray(baseline_bpc)
    return arrays


def save_bpc_curves(history, baseline_bpc, path, title: str = "") -> str:
    """A PNG: training loss (left) and bits per character, train and held out, with the 3-gram
    baseline as a line (right)."""

    def bits_per_char(axes, epochs):
        axes.plot(epochs, history["train_bpc"], marker="o", label="train")
        axes.plot(epochs, history["valid_bpc"], marker="s", label="held out")
        axes.axhline(baseline_bpc, color="gray", linestyle="--", label="3-gram (held out)")
        axes.set(xlabel="epoch", ylabel="bits per character", title="bits per character")

    return save_two_panels(history["train_loss"], "cross-entropy (nats/char)", bits_per_char,
                           path, title)


def load_charlm(path):
    """(model, corpus vocabulary as a string) from a charlm checkpoint written by a run."""
    arrays = load_arrays(path)
    vocab = str(arrays["meta.vocab"])
    model = CharLM(len(vocab), str(arrays["meta.arch"]), int(arrays["meta.hidden_size"]),
                   context=int(arrays["meta.seq_len"]))
    model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
    return model, vocab
