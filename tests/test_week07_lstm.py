"""Week 7: the LSTM (7-2), the whole lesson in --quick mode on synthetic digits."""
import json
import re

import pytest

from lesson_runner import run_lesson

LSTM = "week07_lstm/7_2_lstm_mnist.py"
QUICK = ("--quick", "--data", "synthetic")


def test_7_2_learns_from_28_rows_of_28_pixels(tmp_path):
    code, out, err = run_lesson(LSTM, *QUICK, "--out", tmp_path)
    assert code == 0, err
    assert "28 steps x 28 inputs" in out
    # 4 gates x 100 units: the input (28 pixels) and recurrent (100 units) kernels of one LSTM
    assert "kernel (28, 400), recurrent kernel (100, 400)" in out
    assert "52610 parameters" in out  # 4 * (28 + 100 + 1) * 100 + 100 * 10 + 10: one dense layer
    accuracies = [float(a) for a in
                  re.findall(r"^Iter \d+, Testing Accuracy= ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --quick: 2 epochs
    assert accuracies[-1] > 0.25  # 200 steps at Adam 1e-4; chance is 0.1
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert [p["test_accuracy"] for p in record["progress"]] == pytest.approx(accuracies, abs=1e-4)
    assert [p["epoch"] for p in record["progress"]] == [0, 1]
    assert record["status"] == "finished"
    assert "Iter 1, Testing Accuracy=" in (tmp_path / "log.txt").read_text(encoding="utf-8")


# ------------------------------------------------- bad input: one message, before any training

BAD_NUMBERS = [("--lstm-size", "0"), ("--lstm-size", "5000"), ("--epochs", "-1"),
               ("--batch-size", "0"), ("--lr", "inf"), ("--seed", "-1")]


@pytest.mark.parametrize("flag, value", BAD_NUMBERS)
def test_7_2_impossible_numbers_stop_at_parse(tmp_path, flag, value):
    code, out, err = run_lesson(LSTM, *QUICK, flag, value, "--out", tmp_path / "run")
    assert code == 2 and f"argument {flag}: expected" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_7_2_batch_larger_than_the_quick_data_is_one_message(tmp_path):
    code, out, err = run_lesson(LSTM, *QUICK, "--batch-size", "6000", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "--batch-size 6000 is larger than the 5000 training images" in err
    assert not (tmp_path / "run").exists()  # a run that wrote nothing of its own leaves no folder


@pytest.mark.parametrize("flag", ["--out", "--data-dir"])
def test_7_2_folder_flags_naming_a_file_stop_at_parse(tmp_path, flag):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    flags = {"--out": tmp_path / "run", "--data-dir": tmp_path / "data", flag: a_file}
    code, out, err = run_lesson(LSTM, "--quick", *[str(v) for kv in flags.items() for v in kv])
    assert code == 2 and f"argument {flag}: {a_file} is a file, not a folder" in err
    assert "Traceback" not in err
    assert a_file.read_text() == "not a folder" and not (tmp_path / "run").exists()
