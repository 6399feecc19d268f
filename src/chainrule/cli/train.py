"""`chainrule train`: fit an MLP or a small CNN to the 8x8 digits, or a character-level language
model to Python's help texts (`--model charlm`, in `chainrule.cli.charlm`), with checkpoints and
curves.

Everything is seeded (initial weights, batch order), so the same seed gives the same numbers,
and a run resumed from a checkpoint continues exactly where the interrupted one stopped. The
checkpoint is an .npz written atomically through `chainrule.io` and read without pickle.
"""

import argparse
import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.data import DataLoader, load_digits
from chainrule.errors import ChainruleError, require_extra
from chainrule.io import atomic_write, load_arrays, save_arrays
from chainrule.nn import functional as F

__all__ = ["add_parser", "run", "train", "build_model", "run_demo_training", "TrainConfig"]

MODELS = {"mlp": "64-128-64-10", "cnn": "conv16-pool-conv32-pool-64-10",
          "charlm": "character-level language model"}
DEFAULT_EPOCHS = {"mlp": 20, "cnn": 15}  # charlm's defaults live in chainrule.cli.charlm
DEFAULT_LR = {"sgd": 0.05, "adam": 3e-3, "adamw": 3e-3, "rmsprop": 1e-3}
OPTIMIZERS = {
    "sgd": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "adam": lambda params, lr: optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: optim.AdamW(params, lr=lr, weight_decay=1e-4),
    "rmsprop": lambda params, lr: optim.RMSprop(params, lr=lr),
}


class TrainingDiverged(ChainruleError, FloatingPointError):
    """The loss stopped being a finite number."""


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 0  # 0: the model's default
    lr: float = 0.0  # 0: the optimiser's default
    batch_size: int = 0  # 0: the model's default (32)
    optimizer: str = "adam"
    seed: int = 0
    out: str = ""  # "": runs/<model>-digits, runs/charlm-<arch>
    resume: str = None  # a checkpoint path, "" for <out>/model.npz, None to start afresh
    progress: bool = True
    # charlm only (0 or "": its defaults)
    arch: str = "gru"
    hidden_size: int = 0
    seq_len: int = 0
    steps_per_epoch: int = 0  # 0: one pass over the training text
    text: str = ""  # a UTF-8 file to learn instead of the pydoc help topics

    def __post_init__(self):
        if self.model == "charlm":
            from chainrule.cli.charlm import DEFAULT_HIDDEN, DEFAULTS

            for name, value in DEFAULTS.items():
                setattr(self, name, getattr(self, name) or value)
            self.hidden_size = self.hidden_size or DEFAULT_HIDDEN[self.arch]
            self.out = self.out or os.path.join("runs", f"charlm-{self.arch}")
        self.epochs = self.epochs or DEFAULT_EPOCHS[self.model]
        self.batch_size = self.batch_size or 32
        self.lr = self.lr or DEFAULT_LR[self.optimizer]
        self.out = self.out or os.path.join("runs", f"{self.model}-digits")


@dataclass
class TrainResult:
    test_accuracy: float
    checkpoint: str
    curves: str
    history: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def files(self) -> list:
        """The paths the run wrote (its checkpoint, then its curves), for listing them."""
        return [self.checkpoint, self.curves]


# ----- models ------------------------------------------------------------------------------------
def build_model(name: str, seed: int = 0) -> nn.Module:
    """The MLP or CNN for (N, 1, 8, 8) digits, initialised from `seed`."""
    rng = np.random.default_rng(seed)
    if name == "mlp":
        return nn.Sequential(
            nn.Flatten(), nn.Linear(64, 128, rng=rng), nn.ReLU(),
            nn.Linear(128, 64, rng=rng), nn.ReLU(), nn.Linear(64, 10, rng=rng),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128, 64, rng=rng), nn.ReLU(), nn.Linear(64, 10, rng=rng),
        )
    raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")


# ----- one epoch ---------------------------------------------------------------------------------
def progress_bar(tqdm, total: int, desc: str, enabled: bool = True):
    """A tqdm bar on stderr that the loop advances itself: `bar.set_postfix_str(text,
    refresh=False)` then `bar.update(1)` after each batch.

    Not `tqdm(iterable)`: that bar counts batches in a local variable and copies it to `bar.n`
    only when it redraws (every 0.1 s), while `set_postfix_str` redraws at once with the stale
    `bar.n`, so an epoch shorter than 0.1 s showed 0% throughout while its loss text moved.
    """
    return tqdm(total=total, desc=desc, leave=False, disable=not enabled, file=sys.stderr,
                ncols=90)


def check_finite(value: float, epoch: int, batch: int, optimizer) -> float:
    """`value`, or TrainingDiverged naming where the loss stopped being finite."""
    if not math.isfinite(value):
        raise TrainingDiverged(
            f"the loss became {value} at epoch {epoch}, batch {batch} (learning rate "
            f"{optimizer.lr:g}): training diverged. Try a lower learning rate, e.g. "
            f"--lr {optimizer.lr / 10:g}."
        )
    return value


def _train_one_epoch(model, loader, optimizer, epoch, epochs, progress, tqdm):
    """(mean loss, accuracy) over the training batches of one epoch."""
    model.train()
    bar = progress_bar(tqdm, len(loader), f"epoch {epoch}/{epochs}", progress)
    total_loss, correct, seen = 0.0, 0, 0
    for batch, (images, labels) in enumerate(loader, start=1):
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        value = check_finite(loss.item(), epoch, batch, optimizer)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        count = len(labels)
        total_loss += value * count
        correct += int(np.sum(np.argmax(logits.numpy(), axis=1) == labels.numpy()))
        seen += count
        bar.set_postfix_str(f"loss {total_loss / seen:.3f}  train acc {correct / seen:.3f}",
                            refresh=False)
        bar.update(1)
    bar.close()
    return total_loss / seen, correct / seen


def evaluate(model, dataset, batch_size: int = 512) -> float:
    """Accuracy of `model` (in eval mode, recording nothing) on a TensorDataset."""
    model.train(False)  # evaluation mode: dropout off, norms use their running statistics
    images, labels = dataset.arrays
    correct = 0
    with cr.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(cr.as_tensor(images[start:start + batch_size])).numpy()
            correct += int(np.sum(np.argmax(logits, axis=1) == labels[start:start + batch_size]))
    return correct / len(labels)


# ----- checkpoints and curves --------------------------------------------------------------------
def _checkpoint_arrays(config, model, optimizer, scheduler, epoch, history):
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"optim.{k}": v for k, v in optimizer.state_dict().items()})
    arrays.update({f"sched.{k}": v for k, v in scheduler.state_dict().items()})
    arrays.update({f"history.{k}": np.asarray(v, dtype=np.float64) for k, v in history.items()})
    arrays.update({
        "meta.epoch": np.asarray(epoch), "meta.model": np.asarray(config.model),
        "meta.optimizer": np.asarray(config.optimizer), "meta.seed": np.asarray(config.seed),
    })
    return arrays


def _section(arrays, prefix):
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _restore(path, config, model, optimizer, scheduler, settings=None):
    """Load a checkpoint into the objects; returns (completed epochs, history). The checkpoint
    must hold the run's --model, --optimizer and any further `settings` {"meta.key": value}."""
    arrays = load_arrays(path)
    wanted = {"meta.model": config.model, "meta.optimizer": config.optimizer, **(settings or {})}
    for key, value in wanted.items():
        saved = str(arrays[key]) if key in arrays else None
        if saved != str(value):
            option = key.split(".")[1].replace("_", "-")
            if option == "vocab":
                raise ValueError(f"the checkpoint {path} was trained on another text (its "
                                 "characters differ); pass the same --text to resume it")
            raise ValueError(
                f"the checkpoint {path} was saved with --{option} {saved}, this run asks for "
                f"--{option} {value}; pass --{option} {saved} to resume it"
            )
    model.load_state_dict(_section(arrays, "model."))
    optimizer.load_state_dict(_section(arrays, "optim."))
    scheduler.load_state_dict(_section(arrays, "sched."))
    history = {k: list(v) for k, v in _section(arrays, "history.").items()}
    return int(arrays["meta.epoch"]), history


def save_curves(history, path, title: str = "") -> str:
    """A PNG with the loss (left) and accuracy (right) per epoch; drawn off-screen (Agg)."""

    def accuracy(axes, epochs):
        axes.plot(epochs, history["train_acc"], marker="o", label="train")
        axes.plot(epochs, history["test_acc"], marker="s", label="test")
        axes.set(xlabel="epoch", ylabel="accuracy", title="accuracy")

    return save_two_panels(history["train_loss"], "cross-entropy", accuracy, path, title)


def save_two_panels(train_loss, loss_unit, draw_right, path, title: str = "") -> str:
    """The runs' curves as a PNG, drawn off-screen (Agg) and written atomically: the training
    loss per epoch on the left (`loss_unit` labels its axis), `draw_right(axes, epochs)` on
    the right (accuracy for the digits, bits per character for the char-level model)."""
    require_extra("matplotlib", "train")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(train_loss) + 1)
    figure = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(figure)
    loss_axes, right_axes = figure.subplots(1, 2)
    loss_axes.plot(epochs, train_loss, marker="o", label="train loss")
    loss_axes.set(xlabel="epoch", ylabel=loss_unit, title="loss")
    draw_right(right_axes, epochs)
    for axes in (loss_axes, right_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs: 1, 2, never 1.5
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    with atomic_write(path, suffix=".png") as tmp_path:
        figure.savefig(tmp_path, format="png", dpi=100)
    return path


# ----- the run -----------------------------------------------------------------------------------
def train(config: TrainConfig) -> TrainResult:
    """Train as `chainrule train` does; raises KeyboardInterrupt after saving a checkpoint."""
    # The NaN check below reports divergence, so NumPy's overflow warnings would only repeat it.
    with _single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
        return _train(config)


def _single_threaded_blas():
    """These matrices are small: BLAS threads cost more to wake than they save, and on a busy
    machine they spin. threadpoolctl comes with scikit-learn (the `train` extra)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@contextlib.contextmanager
def save_checkpoint_on_interrupt(checkpoint, snapshot):
    """On Ctrl-C, write `snapshot()` (the state at the end of the last whole epoch, so resuming
    reproduces an uninterrupted run exactly), say how to resume, and re-raise."""
    try:
        yield
    except KeyboardInterrupt:
        arrays = snapshot()
        save_arrays(checkpoint, arrays)
        print(f"\ninterrupted: saved the state after epoch {int(arrays['meta.epoch'])} to "
              f"{checkpoint}; continue with --resume {checkpoint}", file=sys.stderr)
        raise


def _train(config):
    if config.model == "charlm":
        from chainrule.cli.charlm import train_charlm

        return train_charlm(config)
    tqdm = require_extra("tqdm", "train").tqdm
    require_extra("matplotlib", "train")
    train_set, test_set = load_digits(seed=0)
    model = build_model(config.model, config.seed)
    optimizer = OPTIMIZERS[config.optimizer](model.parameters(), config.lr)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=config.epochs)
    checkpoint = os.path.join(config.out, "model.npz")
    start, history = 0, {"train_loss": [], "train_acc": [], "test_acc": []}
    if config.resume is not None:
        start, history = _restore(config.resume or checkpoint, config, model, optimizer, scheduler)
    loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, seed=config.seed)
    loader.epoch = start
    print(f"digits ({len(train_set):,} train / {len(test_set):,} test, 8x8 images)  "
          f"model: {config.model} {MODELS[config.model]}  optimizer: {config.optimizer} "
          f"lr {config.lr:g}" + (f"  resumed at epoch {start}" if start else ""))
    snapshot = _checkpoint_arrays(config, model, optimizer, scheduler, start, history)
    began = time.perf_counter()
    with save_checkpoint_on_interrupt(checkpoint, lambda: snapshot):
        for epoch in range(start + 1, config.epochs + 1):
            epoch_began = time.perf_counter()
            loss, accuracy = _train_one_epoch(model, loader, optimizer, epoch, config.epochs,
                                              config.progress, tqdm)
            scheduler.step()
            test_accuracy = evaluate(model, test_set)
            for key, value in zip(("train_loss", "train_acc", "test_acc"),
                                  (loss, accuracy, test_accuracy), strict=True):
                history[key].append(value)
            print(f"epoch {epoch}/{config.epochs}  loss {loss:.3f}  train acc {accuracy:.3f}  "
                  f"test acc {test_accuracy:.3f}  ({time.perf_counter() - epoch_began:.2f} s)",
                  flush=True)
            snapshot = _checkpoint_arrays(config, model, optimizer, scheduler, epoch, history)
            save_arrays(checkpoint, snapshot)
    save_arrays(checkpoint, snapshot)
    seconds = time.perf_counter() - began
    final_accuracy = evaluate(model, test_set)
    curves = save_curves(history, os.path.join(config.out, "curves.png"),
                         f"{config.model} {MODELS[config.model]} on digits ({config.optimizer})")
    print(f"test accuracy {final_accuracy:.3f} · checkpoint {checkpoint} · curves {curves}  "
          f"({seconds:.1f} s)")
    return TrainResult(final_accuracy, checkpoint, curves, history, seconds)


def run(args) -> int:
    charlm_options = [name for name in ("arch", "hidden_size", "seq_len", "steps_per_epoch",
                                        "text") if getattr(args, name, None) is not None]
    if charlm_options and args.model != "charlm":
        flags = ", ".join("--" + name.replace("_", "-") for name in charlm_options)
        return _usage_error(args, f"{flags}: only for --model charlm")
    if args.text is not None and not os.path.isfile(args.text):
        return _usage_error(args, f"--text: no file at {args.text}")
    config = TrainConfig(
        model=args.model, epochs=args.epochs or 0, lr=args.lr or 0.0,
        batch_size=args.batch_size or 0, optimizer=args.optimizer, seed=args.seed,
        out=args.out or "", resume=args.resume, progress=not args.no_progress,
        arch=args.arch or "gru", hidden_size=args.hidden_size or 0, seq_len=args.seq_len or 0,
        steps_per_epoch=args.steps_per_epoch or 0, text=args.text or "",
    )
    resume_path = config.resume or os.path.join(config.out, "model.npz")
    if config.resume is not None and not os.path.exists(resume_path):
        return _usage_error(args, f"--resume: no checkpoint at {resume_path}")
    try:
        train(config)
    except KeyboardInterrupt:
        return 130
    except TrainingDiverged as exc:
        print(f"chainrule train: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        if config.resume is None:
            raise
        return _usage_error(args, str(exc))
    return 0


def run_demo_training(out_dir) -> list:
    """A short MLP run for `chainrule demo`, written to OUT_DIR/training/: returns the paths of
    the files it wrote (the checkpoint model.npz and the curves PNG)."""
    out = os.path.join(os.fspath(out_dir), "training")
    config = TrainConfig(model="mlp", epochs=5, out=out, progress=False)
    return train(config).files


# ----- arguments ---------------------------------------------------------------------------------
def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0 or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _usage_error(args, message) -> int:
    parser = getattr(args, "train_parser", None)
    if parser is not None:
        parser.error(message)  # prints the usage line and exits with status 2
    print(f"chainrule train: error: {message}", file=sys.stderr)
    return 2


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train an MLP or CNN on the 8x8 digits, or a character-level language model",
        description="Train a small network on scikit-learn's 8x8 digits (80/20 split), or "
                    "(--model charlm) a character-level language model on Python's help texts "
                    "scored against a 3-gram baseline, with a progress bar, a checkpoint and a "
                    "PNG of the learning curves.",
    )
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--epochs", type=_positive(int), default=None,
                        help="total epochs (default: 20 for mlp, 15 for cnn, 6 for charlm)")
    parser.add_argument("--lr", type=_positive(float), default=None,
                        help="learning rate (default: 3e-3 for adam/adamw, 0.05 sgd, 1e-3 rmsprop)")
    parser.add_argument("--batch-size", type=_positive(int), default=None,
                        help="(default 32)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--seed", type=int, default=0, help="seeds weights and batch order")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="where to write model.npz and curves.png (default runs/MODEL-digits, "
                             "runs/charlm-ARCH)")
    parser.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                        help="continue from a checkpoint (default DIR/model.npz) up to --epochs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    charlm = parser.add_argument_group("--model charlm")
    charlm.add_argument("--arch", choices=("gru", "lstm", "transformer"), default=None,
                        help="the network (default gru)")
    charlm.add_argument("--hidden-size", type=_positive(int), default=None,
                        help="hidden units, or the Transformer's width (default 256; "
                             "128 for the Transformer)")
    charlm.add_argument("--seq-len", type=_positive(int), default=None,
                        help="characters per training sequence (default 64)")
    charlm.add_argument("--steps-per-epoch", type=_positive(int), default=None,
                        help="batches per epoch (default: one pass over the training text)")
    charlm.add_argument("--text", default=None, metavar="FILE",
                        help="a UTF-8 text to learn instead of the pydoc help topics")
    parser.set_defaults(handler=run, train_parser=parser)
    return parser
