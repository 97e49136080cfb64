"""Week 7: the LSTM (7-2) in --quick mode on synthetic digits."""
import json
import re
import runpy
from pathlib import Path

import pytest

from lesson_runner import run_lesson

ROOT = Path(__file__).resolve().parent.parent
LSTM = "week07_lstm/7_2_lstm_mnist.py"


def test_7_2_learns_from_28_rows_of_28_pixels(tmp_path):
    code, out, err = run_lesson(LSTM, "--quick", "--data", "synthetic", "--out", tmp_path)
    assert code == 0, err
    assert "28 steps x 28 inputs" in out
    assert "kernel (28, 400)" in out and "recurrent kernel (100, 400)" in out  # 4 gates x 100 units
    accuracies = [float(a) for a in re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --quick: 2 epochs
    assert accuracies[-1] > 0.25  # 200 steps at Adam 1e-4; chance is 0.1
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert [p["test_accuracy"] for p in record["progress"]] == pytest.approx(accuracies, abs=1e-4)
    assert record["status"] == "finished"


def test_7_2_model_consumes_28_steps_of_28_inputs_and_ends_in_logits():
    import tensorflow as tf
    lesson = runpy.run_path(str(ROOT / LSTM), run_name="test")
    model = lesson["build_model"](100)
    assert tuple(model.inputs[0].shape) == (None, 28, 28)
    assert model(tf.zeros([3, 28, 28])).shape == (3, 10)
    assert model.get_layer("output").activation.__name__ == "linear"  # logits; softmax is in the loss
    with pytest.raises(ValueError):  # a flat 784-vector is not a sequence
        model(tf.zeros([3, 784]))


def test_7_2_quick_changes_defaults_only_and_typed_flags_win():
    parser = runpy.run_path(str(ROOT / LSTM), run_name="test")["parser"]
    assert parser.parse_args([]).epochs == 6 and parser.parse_args(["--quick"]).epochs == 2
    assert parser.parse_args(["--quick", "--epochs", "4"]).epochs == 4


@pytest.mark.parametrize("flag, value", [("--lstm-size", "0"), ("--epochs", "-1"), ("--batch-size", "0"),
                                         ("--lr", "inf")])
def test_7_2_impossible_numbers_stop_at_parse(tmp_path, flag, value):
    code, out, err = run_lesson(LSTM, "--quick", "--data", "synthetic", flag, value, "--out", tmp_path / "run")
    assert code == 2 and f"argument {flag}" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
