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
QUICK = ("--quick", "--data", "synthetic")


def load(script):
    """Import a lesson file as a module (its main() does not run)."""
    spec = importlib.util.spec_from_file_location(script.replace(".py", ""), PROJECT_ROOT / WEEK / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def progress(folder):
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["progress"]


def assert_png(path, min_size=(300, 200)):
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= min_size[0] and image.size[1] >= min_size[1]


def test_4_1_double_softmax_changes_the_loss_values():
    lesson = load("4_1_cross_entropy.py")
    y = tf.one_hot([3, 7], 10)
    confident = tf.one_hot([3, 7], 10) * 20.0  # logits of a model that is right and sure
    fixed = lesson.cross_entropy(y, confident).numpy()
    course = lesson.cross_entropy(y, confident, double_softmax=True).numpy()
    assert np.all(fixed < 1e-6)  # cross-entropy of a perfect prediction is ~0
    np.testing.assert_allclose(course, math.log(1 + 9 / math.e), rtol=1e-5)  # the course's floor


def test_4_1_runs_both_losses_and_reports_the_difference(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_1_cross_entropy.py", *QUICK, "--double-softmax", "--epochs", "1",
                                "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --epochs 1 (typed) wins over --quick: one epoch per loss
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
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())  # evaluation is deterministic
    a, b = model(x, training=True), model(x, training=True)
    assert np.abs(a.numpy() - b.numpy()).max() > 1e-3  # different units dropped each pass
    plain, _ = lesson.build_model(keep_prob=1.0, seed=0)
    np.testing.assert_allclose(plain(x, training=True).numpy(), plain(x, training=False).numpy(), rtol=1e-5)


def test_4_2_compare_learns_and_plots_both(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", *QUICK, "--compare", "--epochs", "1",
                                "--batch-size", "250", "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+),Testing Accuracy ([\d.]+),Training Accuracy ([\d.]+)$", out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 0]  # one epoch with keep_prob 0.7, one with 1.0
    assert float(lines[0][1]) > 0.5 and float(lines[1][1]) > 0.5
    assert [p.name for p in sorted(tmp_path.glob("history_keep*.json"))] == ["history_keep0.7.json",
                                                                               "history_keep1.json"]
    assert_png(tmp_path / "dropout_accuracy.png")
    (tmp_path / "dropout_accuracy.png").unlink()
    code, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--plot-only", "--epochs", "1", "--out", tmp_path)
    assert code == 0, err
    assert not re.search(r"^Iter \d+,Testing", out, re.M)  # nothing trained
    assert_png(tmp_path / "dropout_accuracy.png")


def test_4_3_adam_run_prints_the_course_line(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3_optimizers.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2 and accuracies[-1] > 0.5  # --quick: 2 epochs
    assert [round(p["test_accuracy"], 4) for p in progress(tmp_path)] == accuracies


def test_4_3b_every_optimizer_learns_and_leaves_the_start(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3b_optimizer_race.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    assert len(re.findall(r"^Iter \d+, Testing Accuracy", out, re.M)) == 1  # --quick: 1 epoch
    names = {"SGD", "Momentum", "NAG", "Adagrad", "RMSprop", "Adadelta", "Adam"}
    races = {}
    for point in progress(tmp_path):
        races.setdefault(point["race"], {})[point["optimizer"]] = point
    assert {race: set(r) for race, r in races.items()} == {"mnist": names, "valley": names, "saddle": names}
    for name, r in races["mnist"].items():
        assert r["last_epoch_loss"] < 0.8 * r["first_steps_loss"] and r["test_accuracy"] > 0.3, name
    for surface in ("valley", "saddle"):
        for name, r in races[surface].items():
            assert r["final_f"] < r["start_f"] - 0.5, (surface, name)
    assert races["valley"]["Adam"]["steps_to_goal"] < races["valley"]["SGD"]["steps_to_goal"]
    for name in ("optimizers_mnist", "paths_valley", "paths_saddle"):
        assert_png(tmp_path / f"{name}.png")
    for name in ("paths_valley", "paths_saddle"):
        with Image.open(tmp_path / f"{name}.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 5


def test_5_1_prints_the_course_line_with_the_decaying_rate(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/5_1_homework_98.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Learning Rate= ([\d.e-]+)$", out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 1]
    assert float(lines[-1][1]) > 0.5
    assert float(lines[0][2]) == pytest.approx(0.001) and float(lines[1][2]) == pytest.approx(0.00095)


@pytest.mark.parametrize("script, flag, value", [
    ("4_2_dropout.py", "--keep-prob", "0"),
    ("4_2_dropout.py", "--keep-prob", "1.5"),
    ("5_1_homework_98.py", "--decay", "nan"),
    ("4_3b_optimizer_race.py", "--lr-adam", "-1"),
    ("4_1_cross_entropy.py", "--batch-size", "0"),
])
def test_impossible_flags_stop_at_parse_time(tmp_path, script, flag, value):
    code, out, err = run_lesson(f"{WEEK}/{script}", *QUICK, flag, value, "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert flag in err and "expected" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


def test_a_diverging_adam_stops_with_a_clear_message(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3_optimizers.py", *QUICK, "--lr", "1e38", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "The loss became" in err and "at epoch 0" in err and "smaller learning rate than --lr 1e+38" in err
    assert "Iter" not in out  # stopped before printing an accuracy of a broken model


def test_4_2_plot_only_with_nothing_to_plot_names_the_remedy(tmp_path):
    code, _, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--plot-only", "--out", tmp_path)
    assert code == 1 and "history_keep" in err and "Remedy" in err and "Traceback" not in err
