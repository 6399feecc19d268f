"""`chainrule train --model charlm`: the corpus, the 3-gram baseline, learning, sampling, resuming;
and the progress bar that `chainrule train` draws (issue 16: it stayed at 0%)."""

import math
import os

import numpy as np
import pytest
import tqdm

from chainrule.cli import charlm, main
from chainrule.data import CharCorpus, pydoc_topics_text

TINY = ["--hidden-size", "48", "--seq-len", "24", "--batch-size", "16"]


def _checkpoint(out):
    with np.load(os.path.join(out, "model.npz"), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _train(tmp_path, name, *extra):
    out = str(tmp_path / name)
    return main(["train", "--model", "charlm", "--out", out, "--no-progress", *extra]), out


# ----- the corpus --------------------------------------------------------------------------------
def test_pydoc_topics_are_english_in_a_fixed_order():
    text = pydoc_topics_text()
    assert text == pydoc_topics_text()
    assert len(text) > 300_000 and "statement" in text


def test_corpus_vocabulary_split_and_round_trip():
    corpus = CharCorpus("hello world, hello there\n" * 4, valid_fraction=0.1)
    assert corpus.chars == sorted(set(corpus.text)) and corpus.vocab_size == 11
    assert corpus.decode(corpus.encode("hello")) == "hello"
    assert len(corpus.valid) == math.ceil(0.1 * len(corpus.text))  # the last 10%, rounded up
    np.testing.assert_array_equal(np.concatenate([corpus.train, corpus.valid]), corpus.ids)
    assert corpus.decode(corpus.valid) == corpus.text[-len(corpus.valid):]
    with pytest.raises(ValueError, match=r"outside the vocabulary: \['z'\]"):
        corpus.encode("zoo")


def test_batches_are_shifted_windows_of_the_training_text_seeded_by_epoch():
    corpus = CharCorpus.pydoc_topics()
    batches = list(corpus.batches(8, 16, seed=0, epoch=0))
    assert len(batches) == corpus.num_batches(8, 16) > 3000
    inputs, targets = batches[0]
    assert inputs.shape == targets.shape == (8, 16) and inputs.dtype == np.int64
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    train_text = corpus.decode(corpus.train)
    for row_in, row_out in zip(inputs, targets, strict=True):
        window = corpus.decode(row_in) + corpus.decode(row_out[-1:])
        assert window in train_text
    again = next(corpus.batches(8, 16, seed=0, epoch=0))
    other = next(corpus.batches(8, 16, seed=0, epoch=1))
    np.testing.assert_array_equal(again[0], inputs)
    assert not np.array_equal(other[0], inputs)


def test_an_epoch_reads_distinct_windows_from_one_offset_inside_the_training_text():
    corpus = CharCorpus("".join(chr(0x100 + i) for i in range(1000)))  # code = position
    for epoch in range(5):
        windows = np.concatenate([x for x, _ in corpus.batches(4, 10, seed=0, epoch=epoch)])
        starts = windows[:, 0]
        assert len(set(starts)) == len(starts) == corpus.num_batches(4, 10) * 4
        assert len(set(starts % 10)) == 1  # one offset per epoch, windows never overlap
        assert windows.max() + 1 < len(corpus.train)  # the last target too stays in train


def test_streams_cut_a_split_into_equal_contiguous_rows():
    corpus = CharCorpus("abcdefghij" * 10)
    rows = corpus.streams("valid", 3)
    assert rows.shape == (3, len(corpus.valid) // 3)
    np.testing.assert_array_equal(rows.ravel(), corpus.valid[:rows.size])


# ----- the 3-gram baseline -----------------------------------------------------------------------
def test_trigram_matches_a_hand_computation():
    corpus = CharCorpus("abaab", valid_fraction=0.2)  # V = 2: a -> 0, b -> 1
    model = charlm.CharTrigram(2, k=1.0).fit(corpus.encode("abaab"))
    # trigrams aba, baa, aab once each; contexts ab, ba, aa once each.
    # P(a | ab) = (1 + 1) / (1 + 2);  P(b | ba) = (0 + 1) / (1 + 2)
    expected = -(math.log2(2 / 3) + math.log2(1 / 3)) / 2
    assert model.bits_per_char(corpus.encode("abab")) == pytest.approx(expected)
    model.k = 0.5  # P(b | aa) = (1 + 0.5) / (1 + 2 * 0.5);  an unseen context is uniform: 1/2
    assert model.bits_per_char(corpus.encode("aab")) == pytest.approx(-math.log2(1.5 / 2))
    assert model.bits_per_char(corpus.encode("bbb")) == pytest.approx(1.0)


def test_trigram_k_is_tuned_on_the_end_of_the_training_text():
    ids = CharCorpus.pydoc_topics().train
    model = charlm.CharTrigram.tuned(ids, 103, ks=(0.01, 0.1, 1.0))
    cut = len(ids) - math.ceil(0.1 * len(ids))
    for k, bpc in model.tuning.items():
        held = charlm.CharTrigram(103, k).fit(ids[:cut]).bits_per_char(ids[cut - 2:])
        assert bpc == pytest.approx(held)
    assert model.k == min(model.tuning, key=model.tuning.get)
    assert model.trigrams.sum() == len(ids) - 2  # refitted on all of the training text


# ----- training ----------------------------------------------------------------------------------
def test_charlm_learns_through_the_cli(tmp_path, capsys):
    code, out = _train(tmp_path, "gru", "--epochs", "3", "--steps-per-epoch", "40", *TINY)
    assert code == 0
    text = capsys.readouterr().out
    assert "model: charlm gru 48" in text and "3-gram baseline (add-k, k = " in text
    assert "epoch 3/3  loss" in text and "samples (temperature 0.8):" in text
    assert f"checkpoint {out}/model.npz · curves {out}/curves.png" in text
    saved = _checkpoint(out)
    start = math.log(saved["meta.vocab"].item().__len__())  # a uniform guess: ln V nats
    losses, held_out = saved["history.train_loss"], saved["history.valid_bpc"]
    assert losses[-1] < 0.7 * start  # the first batches score about ln V
    assert held_out[-1] < held_out[0] < start / math.log(2)
    assert str(saved["meta.arch"]) == "gru" and int(saved["meta.epoch"]) == 3
    with open(os.path.join(out, "curves.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_other_architectures_learn(tmp_path, arch):
    code, out = _train(tmp_path, arch, "--arch", arch, "--epochs", "2", "--steps-per-epoch",
                       "40", *TINY)
    assert code == 0
    saved = _checkpoint(out)
    assert saved["history.train_loss"][-1] < 0.75 * math.log(len(str(saved["meta.vocab"])))


def test_transformer_is_causal():
    model = charlm.CharLM(10, "transformer", 16, context=8, rng=0)
    ids = np.array([[1, 2, 3, 4, 5, 6, 7, 8]])
    changed = ids.copy()
    changed[0, 5:] = 0  # later characters must not change earlier predictions
    first, _ = model(ids)
    second, _ = model(changed)
    np.testing.assert_allclose(first.numpy()[0, :5], second.numpy()[0, :5], rtol=1e-5)
    assert not np.allclose(first.numpy()[0, 5:], second.numpy()[0, 5:])


def test_ctrl_c_then_resume_continues_exactly(tmp_path, monkeypatch, capsys):
    common = ["--epochs", "3", "--steps-per-epoch", "10", *TINY]
    real_epoch = charlm._train_one_epoch

    def interrupted_in_epoch_2(model, corpus, optimizer, scheduler, config, epoch, *args):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_epoch(model, corpus, optimizer, scheduler, config, epoch, *args)

    monkeypatch.setattr(charlm, "_train_one_epoch", interrupted_in_epoch_2)
    code, out = _train(tmp_path, "resumed", *common)
    assert code == 130
    assert "interrupted: saved the state after epoch 1" in capsys.readouterr().err
    monkeypatch.setattr(charlm, "_train_one_epoch", real_epoch)
    assert _train(tmp_path, "resumed", "--resume", *common)[0] == 0
    straight, resumed = _checkpoint(_train(tmp_path, "straight", *common)[1]), _checkpoint(out)
    assert straight.keys() == resumed.keys()
    for key in straight:
        if key != "history.seconds":
            np.testing.assert_array_equal(resumed[key], straight[key], err_msg=key)


def test_resume_refuses_another_architecture(tmp_path, capsys):
    common = ["--steps-per-epoch", "2", *TINY]
    _, out = _train(tmp_path, "run", "--epochs", "1", *common)
    with pytest.raises(SystemExit) as stopped:
        _train(tmp_path, "run", "--epochs", "2", "--arch", "lstm", "--resume", *common)
    assert stopped.value.code == 2
    assert "saved with --arch gru, this run asks for --arch lstm" in capsys.readouterr().err


def test_charlm_options_need_model_charlm(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["train", "--model", "mlp", "--arch", "lstm", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert "--arch: only for --model charlm" in capsys.readouterr().err


def test_a_text_file_of_ones_own(tmp_path, capsys):
    path = tmp_path / "poem.txt"
    path.write_text("the cat sat on the mat. " * 200, encoding="utf-8")
    code, out = _train(tmp_path, "poem", "--text", str(path), "--epochs", "2",
                       "--steps-per-epoch", "30", *TINY)
    assert code == 0 and f"{path} (4,320 train / 480 held-out characters" in capsys.readouterr().out
    saved = _checkpoint(out)
    assert saved["history.valid_bpc"][-1] < saved["meta.baseline_bpc"] + 1.0


# ----- sampling ----------------------------------------------------------------------------------
def test_sampling_is_determined_by_its_seed(tmp_path):
    corpus = CharCorpus("the quick brown fox jumps over the lazy dog\n" * 3)
    model = charlm.CharLM(corpus.vocab_size, "gru", 16, rng=0)
    first = charlm.sample(model, corpus, "the ", length=40, seed=1)
    assert first == charlm.sample(model, corpus, "the ", length=40, seed=1)
    assert first != charlm.sample(model, corpus, "the ", length=40, seed=2)
    assert first.startswith("the ") and len(first) == 44 and set(first) <= set(corpus.chars)
    transformer = charlm.CharLM(corpus.vocab_size, "transformer", 16, context=8, rng=0)
    assert len(charlm.sample(transformer, corpus, "the ", length=20, seed=0)) == 24


def test_a_saved_model_reloads_with_the_same_scores(tmp_path):
    code, out = _train(tmp_path, "run", "--epochs", "1", "--steps-per-epoch", "5", *TINY)
    model, vocab = charlm.load_charlm(os.path.join(out, "model.npz"))
    corpus = CharCorpus.pydoc_topics()
    assert vocab == "".join(corpus.chars)
    assert charlm.bits_per_char(model, corpus, chunk=24) == pytest.approx(
        float(_checkpoint(out)["history.valid_bpc"][-1]), rel=1e-6)


# ----- the progress bar (issue 16: it stayed at 0% while its loss text moved) ------------------
class _RecordingBar(tqdm.tqdm):
    """Records (count, total) whenever a frame showing a loss is drawn."""

    frames = []
    mininterval_override = None

    def __init__(self, *args, **kwargs):
        if self.mininterval_override is not None:
            kwargs["mininterval"] = self.mininterval_override
        super().__init__(*args, **kwargs)

    def display(self, msg=None, pos=None):
        if msg is None and self.postfix:
            type(self).frames.append((self.n, self.total))
        return super().display(msg, pos)


@pytest.mark.parametrize("mininterval", [None, 0.0], ids=["default", "every-frame"])
@pytest.mark.parametrize("model", ["mlp", "charlm"])
def test_progress_bar_counts_the_batches_its_loss_covers(tmp_path, monkeypatch, capsys, model,
                                                         mininterval):
    monkeypatch.setattr(_RecordingBar, "frames", [])
    monkeypatch.setattr(_RecordingBar, "mininterval_override", mininterval)
    monkeypatch.setattr(tqdm, "tqdm", _RecordingBar)
    extra = ["--steps-per-epoch", "12", *TINY] if model == "charlm" else []
    code = main(["train", "--model", model, "--epochs", "1", "--out", str(tmp_path), *extra])
    assert code == 0
    frames = _RecordingBar.frames
    # Before the fix every frame drawn with a loss said 0/N: tqdm(iterable) copies its count to
    # the bar only every 0.1 s, while set_postfix_str redrew at once.
    assert all(count >= 1 for count, _ in frames), frames[:5]
    if mininterval == 0.0:  # every batch draws: 1/N, 2/N, ..., N/N (100%)
        total = frames[0][1]
        assert [count for count, _ in frames] == list(range(1, total + 1))
    assert "0/" in capsys.readouterr().err  # the bar was drawn at all (on stderr)
