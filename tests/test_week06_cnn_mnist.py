"""Week 6: the CNN (6-1) and the CNN with TensorBoard (7-1), in --quick mode on synthetic digits.

(The --strategy and --mixed-precision runs of 6-1 are in test_week09_strategy.py.)
"""
import re
import runpy
from pathlib import Path

from PIL import Image

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
CNN = "week06_cnn_mnist/6_1_cnn_mnist.py"
TENSORBOARD = "week06_cnn_mnist/7_1_cnn_tensorboard.py"


def test_6_1_learns_prints_the_layer_arithmetic_and_draws_what_it_learned(tmp_path):
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err

    accuracies = [float(a) for a in re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --quick: 2 epochs, one line each, in the teacher's format
    assert accuracies[-1] > 0.5  # ten classes: chance is 0.1

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
    total = sum(params for _, params in expected.values())
    assert f"total parameters: {total}" in out

    for name in ("filters.png", "feature_maps.png"):
        path = tmp_path / name
        assert f"saved plot: {path}" in out
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200
    assert not list(tmp_path.glob("*.tmp*"))  # written under a temporary name, then renamed


def test_6_1_mixed_precision_computes_in_16_bits_with_float32_logits():
    import tensorflow as tf
    lesson = runpy.run_path(str(ROOT / CNN), run_name="test")
    model = lesson["build_model"]("mixed_bfloat16")
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    assert model.get_layer("conv1").kernel.dtype == "float32"  # weights stay float32
    logits = model(tf.zeros([2, 28, 28, 1]))
    assert logits.dtype == tf.float32 and logits.shape == (2, 10)


def test_6_1_bad_keep_prob_is_a_clear_error(tmp_path):
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--keep-prob", "0", "--out", tmp_path)
    assert code != 0
    assert "--keep-prob" in err and "Traceback" not in err


def _event_tags(folder):
    import tensorflow as tf
    tags = {}
    for path in Path(folder).glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, set()).add(event.step)
    return tags


def test_7_1_writes_train_and_test_summaries_and_prints_both_accuracies(tmp_path):
    code, out, err = run_lesson(TENSORBOARD, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Training Accuracy= ([\d.]+)$", out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 30]  # --quick: 31 iterations, a line every 30
    assert float(lines[-1][1]) > 0.3 and float(lines[-1][2]) > 0.3  # 30 steps in; chance is 0.1

    train = _event_tags(tmp_path / "logs" / "train")
    test = _event_tags(tmp_path / "logs" / "test")
    for tags in (train, test):
        assert tags["loss"] == set(range(31)) and tags["accuracy"] == set(range(31))  # every iteration
    assert any(tag.endswith("histogram") and "W_fc1" in tag for tag in train)  # variable_summaries
    assert any("stddev" in tag for tag in train)
    assert "train_step" in train  # the traced graph of the training step (TensorBoard's Graphs tab)


def test_6_1_multiworker_explains_a_bad_tf_config_and_conflicting_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--strategy", "multiworker",
                                "--out", tmp_path)
    assert code != 0 and "TF_CONFIG is not valid JSON" in err and "Traceback" not in err
    monkeypatch.delenv("TF_CONFIG")
    code, out, err = run_lesson(CNN, "--quick", "--data", "synthetic", "--strategy", "multiworker",
                                "--threads", "2", "--out", tmp_path)
    assert code != 0 and "--threads" in err and "Traceback" not in err


def test_6_1_train_steps_runs_that_many_steps_on_that_many_batches():
    import numpy as np
    import tensorflow as tf
    import tfcourse
    lesson = runpy.run_path(str(ROOT / CNN), run_name="test")
    model = lesson["build_model"]()
    optimizer = tfcourse.optimizers.Adam(1e-4)
    train_steps = lesson["make_train_steps"](model, optimizer, tf.distribute.get_strategy(), 2)
    images = np.random.default_rng(0).random((14, 28, 28, 1), dtype=np.float32)
    labels = np.eye(10, dtype=np.float32)[np.arange(14) % 10]
    batches = iter(tf.data.Dataset.from_tensor_slices((images, labels)).batch(2))
    before = model.get_layer("fc1").kernel.numpy()
    train_steps(batches, lesson["STEPS_PER_CALL"])
    train_steps(batches, 1)  # an epoch's last call may be shorter
    assert int(optimizer.iterations) == lesson["STEPS_PER_CALL"] + 1
    assert not np.allclose(model.get_layer("fc1").kernel.numpy(), before)  # it trained
    remaining = list(batches)  # 7 batches in all: 6 consumed, one left
    assert len(remaining) == 7 - lesson["STEPS_PER_CALL"] - 1
    np.testing.assert_array_equal(remaining[-1][0].numpy(), images[12:])
