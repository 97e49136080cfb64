"""Week 6: the CNN (6-1) and the CNN with TensorBoard (7-1), in --quick mode on synthetic digits.

(Several devices and mixed precision are lesson 9-3: test_week09_strategy.py.)
"""
import json
import re
import runpy
from pathlib import Path

import pytest
from PIL import Image

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
CNN = "week06_cnn_mnist/6_1_cnn_mnist.py"
TENSORBOARD = "week06_cnn_mnist/7_1_cnn_tensorboard.py"


def test_6_1_learns_prints_the_layer_arithmetic_and_draws_what_it_learned(tmp_path):
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err

    accuracies = [float(a) for a in re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 1  # --quick: 1 epoch, one line, in the teacher's format
    assert accuracies[-1] > 0.5  # 50 steps; ten classes: chance is 0.1

    # layer table: shapes and parameter counts follow from the lesson's arithmetic
    rows = {m[0]: (m[1], int(m[2])) for m in re.findall(r"^(\w+)\s+(\([\d, ]*\))\s+(\d+)", out, re.M)}
    expected = {
        "conv1": ("(28, 28, 32)", 5 * 5 * 1 * 32 + 32),
        "pool1": ("(14, 14, 32)", 0),
        "conv2": ("(14, 14, 64)", 5 * 5 * 32 * 64 + 64),
        "pool2": ("(7, 7, 64)", 0),
        "flatten": (f"({7 * 7 * 64},)", 0),
        "fc1": ("(1024,)", 7 * 7 * 64 * 1024 + 1024),  # 3136 -> 1024
        "fc2": ("(10,)", 1024 * 10 + 10),
    }
    for name, value in expected.items():
        assert rows[name] == value, name
    assert f"total parameters: {sum(params for _, params in expected.values())}" in out

    for name in ("filters.png", "feature_maps.png"):
        path = tmp_path / name
        assert f"saved plot: {path}" in out
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["status"] == "finished" and [p["epoch"] for p in record["progress"]] == [0]
    assert "SYNTHETIC" in out.splitlines()[-2]  # the one end-of-run line says what the data were


def test_6_1_model_ends_in_logits_with_the_lessons_initial_values():
    import numpy as np
    lesson = runpy.run_path(str(ROOT / CNN), run_name="test")
    model = lesson["build_model"](0.7)
    fc2 = model.get_layer("fc2")
    assert fc2.activation.__name__ == "linear"  # logits: softmax belongs in the loss, not the layer
    assert np.allclose(fc2.bias.numpy(), 0.1)
    kernel = model.get_layer("fc1").kernel.numpy()
    assert abs(kernel.std() - 0.088) < 0.005 and np.abs(kernel).max() <= 0.2  # truncated_normal(0.1)
    assert model.get_layer("dropout").rate == pytest.approx(0.3)  # keep_prob 0.7


@pytest.mark.parametrize("script, flag, lesson, quick, typed", [
    (CNN, "epochs", 21, 1, 3), (TENSORBOARD, "steps", 1001, 11, 5)])
def test_quick_changes_defaults_only_and_typed_flags_win(script, flag, lesson, quick, typed):
    parser = runpy.run_path(str(ROOT / script), run_name="test")["parser"]
    assert getattr(parser.parse_args([]), flag) == lesson
    assert getattr(parser.parse_args(["--quick"]), flag) == quick
    assert getattr(parser.parse_args(["--quick", f"--{flag}", str(typed)]), flag) == typed
    assert getattr(parser.parse_args([f"--{flag}", str(typed), "--quick"]), flag) == typed  # in any order


@pytest.mark.parametrize("script, flag, value", [
    (CNN, "--keep-prob", "0"), (CNN, "--keep-prob", "1.5"), (CNN, "--epochs", "0"), (CNN, "--batch-size", "-1"),
    (CNN, "--lr", "nan"), (TENSORBOARD, "--steps", "0"), (TENSORBOARD, "--keep-prob", "-0.5"),
    (TENSORBOARD, "--histogram-every", "0"),
])
def test_impossible_numbers_stop_at_parse(tmp_path, script, flag, value):
    code, out, err = run_lesson(script, "--quick", "--data", "synthetic", flag, value, "--out", tmp_path / "run")
    assert code == 2 and f"argument {flag}" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made


def test_6_1_a_batch_larger_than_the_data_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--batch-size", "9000",
                                "--out", tmp_path / "run")
    assert code == 2 and "--batch-size 9000" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # the empty run folder is removed again


def test_6_1_a_diverging_loss_stops_with_the_learning_rate_named(tmp_path):
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--batch-size", "2500", "--lr", "1e38",
                                "--out", tmp_path)
    assert code == 1 and "Traceback" not in err
    assert "epoch 0" in err and "--lr 1e+38" in err  # where it happened, and what to change
    assert not list(tmp_path.glob("*.png"))  # stopped before the plots


def _events(folder):
    import tensorflow as tf
    tags, graphs = {}, 0
    for path in Path(folder).glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            graphs += bool(event.graph_def)
            for value in event.summary.value:
                tags.setdefault(value.tag, set()).add(event.step)
    return tags, graphs


def test_7_1_writes_train_and_test_summaries_and_prints_both_accuracies(tmp_path):
    # typed flags win over --quick's 11 iterations
    code, out, err = run_lesson(TENSORBOARD, "--quick", "--data", "synthetic", "--steps", "9",
                                "--histogram-every", "8", "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Training Accuracy= ([\d.]+)$", out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 8]  # every 100 iterations, and the last
    assert float(lines[-1][1]) > 0.15 and float(lines[-1][2]) > 0.15  # 9 steps at Adam 1e-4; chance 0.1

    train, graphs = _events(tmp_path / "logs" / "train")
    test, _ = _events(tmp_path / "logs" / "test")
    for tags in (train, test):
        assert tags["loss"] == set(range(9)) and tags["accuracy"] == set(range(9))  # every iteration
    assert train["fc1/W_fc1/summaries/histogram"] == {0, 8}  # variable_summaries every 8th
    assert {"mean", "stddev", "max", "min"} <= {t.split("/")[-1] for t in train if t.startswith("Conv1/b_conv1/")}
    assert not any("summaries" in tag for tag in test)
    assert graphs == 1  # the training step's graph, for TensorBoard's GRAPHS tab
    assert f"tensorboard --logdir {tmp_path / 'logs'} --host 127.0.0.1" in out
