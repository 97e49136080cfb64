"""Week 6: the CNN (6-1) and the CNN with TensorBoard (7-1), whole lessons in --quick mode on
synthetic digits.

(Several devices and mixed precision are lesson 9-3: test_week09_strategy.py.)
"""
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from lesson_runner import run_keeping_globals, run_lesson

CNN = "week06_cnn_mnist/6_1_cnn_mnist.py"
TENSORBOARD = "week06_cnn_mnist/7_1_cnn_tensorboard.py"
QUICK = ("--quick", "--data", "synthetic")


def test_6_1_learns_prints_the_layer_arithmetic_and_draws_what_it_learned(tmp_path, monkeypatch):
    code, out, err, lesson = run_keeping_globals(monkeypatch, CNN, *QUICK, "--out", tmp_path)
    assert code == 0, err

    accuracies = [float(a) for a in
                  re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 1  # --quick: 1 epoch, one line, in the teacher's format
    assert accuracies[-1] > 0.5  # 50 steps; ten classes: chance is 0.1

    # layer table: shapes and parameter counts follow from the lesson's arithmetic
    rows = {m[0]: (m[1], int(m[2]))
            for m in re.findall(r"^(\w+)\s+(\([\d, ]*\))\s+(\d+)", out, re.M)}
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

    # the model ends in logits (softmax belongs in the loss), with the lesson's initial values
    model = lesson["model"]
    fc2 = model.get_layer("fc2")
    assert fc2.activation.__name__ == "linear"
    for name in ("conv1", "conv2", "fc1", "fc2"):
        config = model.get_layer(name).get_config()
        assert config["kernel_initializer"]["class_name"] == "TruncatedNormal"
        assert config["kernel_initializer"]["config"]["stddev"] == 0.1
        assert config["bias_initializer"]["config"]["value"] == 0.1
    assert model.get_layer("dropout").rate == pytest.approx(0.3)  # keep_prob 0.7

    for name in ("filters.png", "feature_maps.png"):
        path = tmp_path / name
        assert f"saved plot: {path}" in out
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width > 300 and image.height > 200
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["status"] == "finished" and [p["epoch"] for p in record["progress"]] == [0]
    assert record["progress"][0]["test_accuracy"] == pytest.approx(accuracies[0], abs=1e-4)
    assert "SYNTHETIC" in out.splitlines()[-2]  # the one end-of-run line says what the data were


@pytest.mark.parametrize("script, help_lines", [
    (CNN, ["training epochs (lesson: 21)", "--epochs 1, 5000/500/1000"]),
    (TENSORBOARD, ["training steps (lesson: 1001)", "--steps 11, 5000/500/1000"])])
def test_help_names_the_lessons_values_and_what_quick_changes(script, help_lines):
    code, out, err = run_lesson(script, "--help")
    assert code == 0 and "Traceback" not in err
    text = " ".join(out.split())  # argparse wraps the help at the terminal's width
    for line in help_lines:
        assert line in text


# ------------------------------------------------- bad input: one message, before any training

BAD_NUMBERS = [
    (CNN, "--keep-prob", "0"), (CNN, "--keep-prob", "1.5"), (CNN, "--epochs", "0"),
    (CNN, "--batch-size", "-1"), (CNN, "--lr", "nan"), (CNN, "--seed", "4294967296"),
    (TENSORBOARD, "--steps", "0"), (TENSORBOARD, "--keep-prob", "-0.5"),
    (TENSORBOARD, "--histogram-every", "0"), (TENSORBOARD, "--lr", "-1"),
]


@pytest.mark.parametrize("script, flag, value", BAD_NUMBERS)
def test_impossible_numbers_stop_at_parse(tmp_path, script, flag, value):
    code, out, err = run_lesson(script, *QUICK, flag, value, "--out", tmp_path / "run")
    assert code == 2 and f"argument {flag}: expected" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made


def test_6_1_a_batch_larger_than_the_data_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(CNN, *QUICK, "--batch-size", "9000", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "--batch-size 9000 is larger than the 5000 training images" in err
    assert not (tmp_path / "run").exists()  # the empty run folder is removed again


@pytest.mark.parametrize("steps, every, remedy", [("11", "11", "10"), ("9", "50", "8")])
def test_7_1_histograms_of_iteration_0_only_is_one_message_with_a_remedy(tmp_path, steps, every,
                                                                        remedy):
    code, out, err = run_lesson(TENSORBOARD, *QUICK, "--steps", steps, "--histogram-every", every,
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert f"--histogram-every {every} with --steps {steps} writes the variable summaries" in err
    assert f"Remedy: --histogram-every {remedy} or less" in err
    assert not (tmp_path / "run").exists()  # stopped before the run folder was made
    # the remedy works: test_7_1_writes_... runs --steps 9 --histogram-every 8


@pytest.mark.parametrize("script, flag", [(CNN, "--out"), (TENSORBOARD, "--out"),
                                          (TENSORBOARD, "--data-dir")])
def test_folder_flags_naming_a_file_stop_at_parse(tmp_path, script, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    flags = {"--out": tmp_path / "run", "--data-dir": tmp_path / "data", flag: a_file}
    code, out, err = run_lesson(script, "--quick", *[str(v) for kv in flags.items() for v in kv])
    assert code == 2 and f"argument {flag}: {a_file} is a file, not a folder" in err
    assert "Traceback" not in err
    assert a_file.read_text() == "not a folder" and not (tmp_path / "run").exists()


def test_7_1_a_run_folder_whose_logs_is_a_file_is_one_message(tmp_path):
    (tmp_path / "logs").write_text("my notes")
    code, out, err = run_lesson(TENSORBOARD, *QUICK, "--out", tmp_path)
    assert code == 1 and "Traceback" not in err
    assert f"{tmp_path / 'logs'} is a file" in err and "Remedy: another --out folder" in err
    assert (tmp_path / "logs").read_text() == "my notes"
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "failed"


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
    code, out, err = run_lesson(TENSORBOARD, *QUICK, "--steps", "9", "--histogram-every", "8",
                                "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Training Accuracy= ([\d.]+)$",
                       out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 8]  # every 100 iterations, and the last
    # 9 steps at Adam 1e-4; chance is 0.1
    assert float(lines[-1][1]) > 0.15 and float(lines[-1][2]) > 0.15

    train, graphs = _events(tmp_path / "logs" / "train")
    test, _ = _events(tmp_path / "logs" / "test")
    for tags in (train, test):  # every iteration
        assert tags["loss"] == set(range(9)) and tags["accuracy"] == set(range(9))
    assert train["fc1/W_fc1/summaries/histogram"] == {0, 8}  # variable_summaries every 8th
    conv1_bias = {t.split("/")[-1] for t in train if t.startswith("Conv1/b_conv1/")}
    assert {"mean", "stddev", "max", "min"} <= conv1_bias
    assert not any("summaries" in tag for tag in test)
    assert graphs == 1  # the training step's graph, for TensorBoard's GRAPHS tab
    assert f"tensorboard --logdir {tmp_path / 'logs'} --host 127.0.0.1" in out
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert [p["step"] for p in record["progress"]] == [0, 8] and record["status"] == "finished"
    assert record["progress"][-1]["test_accuracy"] == pytest.approx(float(lines[-1][1]), abs=1e-4)
