"""Week 4: cross-entropy (and the course's double softmax), dropout, optimizers, the 98% homework.

Every lesson runs in --quick mode on synthetic digits, in this process (TensorFlow imported once).
"""
import importlib.util
import json
import math
import re

import numpy as np
import pytest
from PIL import Image

import tfcourse  # noqa: F401  (quiet TensorFlow import)
import tensorflow as tf
from lesson_runner import PROJECT_ROOT, run_lesson

WEEK = "week04_softmax_dropout_optimizers"


def load(script):
    """Import a lesson file as a module (its main() does not run)."""
    spec = importlib.util.spec_from_file_location(script.replace(".py", ""), PROJECT_ROOT / WEEK / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png(path, min_size=(300, 200)):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]


def test_4_1_double_softmax_changes_the_loss_values():
    lesson = load("4_1_cross_entropy.py")
    y = tf.one_hot([3, 7], 10)
    confident = tf.one_hot([3, 7], 10) * 20.0  # logits of a model that is right and sure
    fixed = lesson.cross_entropy(y, confident).numpy()
    course = lesson.cross_entropy(y, confident, double_softmax=True).numpy()
    assert np.all(fixed < 1e-6)  # cross-entropy of a perfect prediction is ~0
    np.testing.assert_allclose(course, math.log(1 + 9 / math.e), rtol=1e-5)  # the course's floor


def test_4_1_runs_both_losses_and_reports_the_difference(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_1_cross_entropy.py", "--quick", "--data", "synthetic",
                                "--double-softmax", "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 4  # two epochs with the course's loss, two with the fixed one
    assert accuracies[-1] > 0.5  # chance is 0.1
    report = json.loads((tmp_path / "double_softmax.json").read_text(encoding="utf-8"))
    course, fixed = report["course"], report["fixed"]
    assert all(value >= report["floor"] - 1e-4 for value in course["loss"])
    assert all(f < c - 0.3 for f, c in zip(fixed["loss"], course["loss"]))
    assert all(f > c for f, c in zip(fixed["grad_norm"], course["grad_norm"]))  # smaller gradients
    assert f"{course['loss'][-1]:.4f}" in out and f"{fixed['loss'][-1]:.4f}" in out


def test_4_2_dropout_only_in_training():
    lesson = load("4_2_dropout.py")
    x = tf.random.uniform([8, 784], seed=1)
    model, variables = lesson.build_model(keep_prob=0.7, seed=0)
    assert sum(int(np.prod(v.shape)) for v in variables) > 7_000_000  # 784-2000-2000-1000-10
    first, second = model(x, training=False), model(x, training=False)
    np.testing.assert_array_equal(first.numpy(), second.numpy())  # evaluation is deterministic
    a, b = model(x, training=True), model(x, training=True)
    assert np.abs(a.numpy() - b.numpy()).max() > 1e-3  # different units dropped each pass
    plain, _ = lesson.build_model(keep_prob=1.0, seed=0)
    np.testing.assert_allclose(plain(x, training=True).numpy(), plain(x, training=False).numpy(), rtol=1e-5)


def test_4_2_compare_learns_and_plots_both(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--quick", "--data", "synthetic", "--compare",
                                "--batch-size", "250", "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+),Testing Accuracy ([\d.]+),Training Accuracy ([\d.]+)$", out, re.M)
    assert len(lines) == 4
    assert float(lines[1][1]) > 0.5 and float(lines[3][1]) > 0.5
    histories = sorted(tmp_path.glob("history_keep*.json"))
    assert [p.name for p in histories] == ["history_keep0.7.json", "history_keep1.json"]
    assert_png(tmp_path / "dropout_accuracy.png")
    (tmp_path / "dropout_accuracy.png").unlink()
    code, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--quick", "--plot-only", "--out", tmp_path)
    assert code == 0, err
    assert not re.search(r"^Iter \d+,Testing", out, re.M)  # nothing trained
    assert_png(tmp_path / "dropout_accuracy.png")


def test_4_2_bad_keep_prob_is_a_clear_error(tmp_path):
    code, _, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--keep-prob", "0", "--data", "synthetic",
                              "--out", tmp_path)
    assert code != 0
    assert "--keep-prob" in err and "Traceback" not in err
    code, _, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--plot-only", "--out", tmp_path)
    assert code != 0 and "history_keep" in err and "Traceback" not in err


def test_4_3_every_optimizer_lowers_the_loss(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3_optimizers.py", "--quick", "--data", "synthetic",
                                "--compare-epochs", "1", "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2 and accuracies[-1] > 0.5
    result = json.loads((tmp_path / "optimizers.json").read_text(encoding="utf-8"))
    names = ["SGD", "Momentum", "NAG", "Adagrad", "RMSprop", "Adadelta", "Adam"]
    assert sorted(result["mnist"]) == sorted(names)
    for name, r in result["mnist"].items():
        assert r["last_epoch_loss"] < 0.8 * r["first_steps_loss"], name
        assert r["test_accuracy"][-1] > 0.3, name
    for surface in ("valley", "saddle"):
        for name, r in result["surfaces"][surface].items():
            assert r["final_f"] < r["start_f"] - 0.5, (surface, name)
    for name in ("optimizers_mnist", "paths_valley", "paths_saddle"):
        assert_png(tmp_path / f"{name}.png")
    for name in ("paths_valley", "paths_saddle"):
        with Image.open(tmp_path / f"{name}.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 5


def test_5_1_prints_the_course_line_with_the_decaying_rate(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/5_1_homework_98.py", "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Learning Rate= ([\d.e-]+)$", out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 1]
    assert float(lines[-1][1]) > 0.5
    assert float(lines[0][2]) == pytest.approx(0.001) and float(lines[1][2]) == pytest.approx(0.00095)
