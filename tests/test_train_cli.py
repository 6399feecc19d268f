"""`chainrule train`: learning happens, runs are reproducible, checkpoints resume exactly."""

import os

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.cli import train as train_cli


def _train(tmp_path, name, *extra):
    out = str(tmp_path / name)
    code = main(["train", "--out", out, "--no-progress", *extra])
    return code, out


def _checkpoint(out):
    with np.load(os.path.join(out, "model.npz"), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def test_mlp_learns_and_writes_checkpoint_and_curves(tmp_path, capsys):
    code, out = _train(tmp_path, "mlp", "--model", "mlp", "--epochs", "2")
    assert code == 0
    text = capsys.readouterr().out
    assert "digits (1,437 train / 360 test, 8x8 images)  model: mlp 64-128-64-10" in text
    assert "epoch 2/2  loss" in text
    assert f"checkpoint {out}/model.npz · curves {out}/curves.png" in text
    saved = _checkpoint(out)
    assert int(saved["meta.epoch"]) == 2 and str(saved["meta.model"]) == "mlp"
    assert saved["history.test_acc"][-1] > 0.8  # chance is 0.1
    assert saved["history.train_loss"][1] < saved["history.train_loss"][0]
    with open(os.path.join(out, "curves.png"), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cnn_learns_in_one_epoch(tmp_path):
    code, out = _train(tmp_path, "cnn", "--model", "cnn", "--epochs", "1", "--batch-size", "64")
    assert code == 0
    assert _checkpoint(out)["history.test_acc"][-1] > 0.5


def test_same_seed_gives_the_same_numbers(tmp_path):
    runs = [_train(tmp_path, name, "--epochs", "2", "--seed", "3")[1] for name in ("a", "b")]
    first, second = (_checkpoint(out) for out in runs)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)
    other = _checkpoint(_train(tmp_path, "c", "--epochs", "2", "--seed", "4")[1])
    assert not np.array_equal(other["model.1.weight"], first["model.1.weight"])


def test_resume_continues_exactly(tmp_path):
    straight = _checkpoint(_train(tmp_path, "straight", "--epochs", "3", "--optimizer", "sgd")[1])
    _, out = _train(tmp_path, "resumed", "--epochs", "1", "--optimizer", "sgd")
    code, _ = _train(tmp_path, "resumed", "--epochs", "3", "--optimizer", "sgd", "--resume")
    assert code == 0
    resumed = _checkpoint(out)
    for key in straight:
        if not key.startswith("sched."):  # T_max differs: --epochs changed between the runs
            np.testing.assert_array_equal(resumed[key], straight[key], err_msg=key)


def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path, monkeypatch, capsys):
    real_epoch = train_cli._train_one_epoch

    def interrupted_in_epoch_2(model, loader, optimizer, epoch, *args):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_epoch(model, loader, optimizer, epoch, *args)

    monkeypatch.setattr(train_cli, "_train_one_epoch", interrupted_in_epoch_2)
    code, out = _train(tmp_path, "stopped", "--epochs", "3")
    assert code == 130
    assert "interrupted: saved the state after epoch 1" in capsys.readouterr().err
    assert int(_checkpoint(out)["meta.epoch"]) == 1
    monkeypatch.setattr(train_cli, "_train_one_epoch", real_epoch)
    assert _train(tmp_path, "stopped", "--epochs", "3", "--resume")[0] == 0
    straight = _checkpoint(_train(tmp_path, "straight", "--epochs", "3")[1])
    np.testing.assert_array_equal(_checkpoint(out)["model.5.weight"], straight["model.5.weight"])


def test_nan_loss_names_epoch_batch_and_suggests_lower_lr(tmp_path, capsys):
    code, _ = _train(tmp_path, "nan", "--optimizer", "sgd", "--lr", "1e30", "--epochs", "1")
    assert code == 1
    message = capsys.readouterr().err
    assert "at epoch 1, batch" in message
    assert "Try a lower learning rate, e.g. --lr 1e+29" in message


@pytest.mark.parametrize("arguments", [
    ["--epochs", "0"], ["--model", "resnet"], ["--lr", "fast"], ["--batch-size", "-4"],
    ["--optimizer", "lbfgs"], ["--lr", "nan"],
])
def test_bad_arguments_exit_2_with_usage(arguments, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *arguments])
    assert info.value.code == 2
    assert "usage: chainrule train" in capsys.readouterr().err


def test_resume_without_checkpoint_or_with_another_model_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        _train(tmp_path, "empty", "--resume")
    assert info.value.code == 2
    assert "no checkpoint at" in capsys.readouterr().err
    _train(tmp_path, "mlp", "--epochs", "1")
    with pytest.raises(SystemExit) as info:
        _train(tmp_path, "mlp", "--model", "cnn", "--resume")
    assert info.value.code == 2
    assert "pass --model mlp to resume it" in capsys.readouterr().err


def test_demo_training_returns_the_files_it_wrote(tmp_path):
    paths = train_cli.run_demo_training(tmp_path / "demo")
    training = os.path.join(str(tmp_path / "demo"), "training")
    assert paths == [os.path.join(training, "model.npz"), os.path.join(training, "curves.png")]
    assert sorted(os.listdir(training)) == ["curves.png", "model.npz"]
    assert all(os.path.getsize(path) > 1000 for path in paths)


def test_demo_lists_every_file_it_wrote(tmp_path, capsys):
    out_dir = tmp_path / "demo-output"
    assert main(["demo", "--out", str(out_dir)]) == 0
    text = capsys.readouterr().out
    listed = text[text.index(f"Files written to {out_dir}:"):].splitlines()[1:]
    on_disk = sorted(os.path.join(root, name) for root, _, names in os.walk(out_dir)
                     for name in names)
    assert sorted(line.strip() for line in listed) == on_disk
    assert f"  {out_dir / 'training' / 'model.npz'}" in listed  # the training line names it too
    assert f"checkpoint {out_dir / 'training' / 'model.npz'}" in text


def _saved_figures(monkeypatch):
    from matplotlib.figure import Figure

    figures, savefig = [], Figure.savefig

    def record(figure, *args, **kwargs):
        figures.append(figure)
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


def test_curves_have_whole_epoch_ticks(tmp_path, monkeypatch):
    from chainrule.cli.charlm import save_bpc_curves

    figures = _saved_figures(monkeypatch)
    history = {"train_loss": [1.2, 0.8], "train_acc": [0.7, 0.9], "test_acc": [0.8, 0.9],
               "train_bpc": [2.5, 2.1], "valid_bpc": [2.6, 2.3]}
    train_cli.save_curves(history, str(tmp_path / "digits.png"))
    save_bpc_curves(history, 2.4, str(tmp_path / "charlm.png"))
    assert len(figures) == 2
    for figure in figures:
        for axes in figure.axes:
            low, high = axes.get_xlim()
            ticks = [t for t in axes.get_xticks() if low <= t <= high]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks
            assert {1.0, 2.0} <= set(ticks)
