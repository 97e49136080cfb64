"""Week 3: the non-linear fit gets close; the simple MNIST model learns (synthetic digits)."""
import json
import re

from lesson_runner import run_lesson

FIT = "week03_regression/3_1_nonlinear_regression.py"


def test_3_1_loss_falls_and_fit_is_close(tmp_path):
    code, out, _ = run_lesson(FIT, "--quick", "--out", tmp_path)
    assert code == 0
    steps = [int(v) for v in re.findall(r"^step (\d+), loss", out, re.M)]
    assert steps == [0, 200, 400, 600]  # --quick: 600 steps
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", out)]
    assert losses[0] > 10 * losses[-1]
    assert losses[-1] < 0.004  # noise variance is 0.0004; a flat line would give ~0.0056
    assert (tmp_path / "fit.png").stat().st_size > 10_000
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [p["step"] for p in record["progress"]] == [200, 400, 600]


def test_3_1_typed_steps_win_over_quick_and_are_all_trained(tmp_path):
    code, out, _ = run_lesson(FIT, "--quick", "--steps", "250", "--out", tmp_path)
    assert code == 0
    assert [int(v) for v in re.findall(r"^step (\d+), loss", out, re.M)] == [0, 200, 250]


def test_3_2_prints_the_course_line_and_learns(tmp_path):
    code, out, _ = run_lesson("week03_regression/3_2_mnist_simple.py", "--quick",
                              "--data", "synthetic", "--epochs", "3", "--out", tmp_path)
    assert code == 0
    assert "SYNTHETIC" in out
    accuracies = [float(v) for v in
                  re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 3  # the typed --epochs 3 wins over --quick's 2
    assert accuracies[-1] > 0.4  # chance is 0.1
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [round(p["test_accuracy"], 4) for p in record["progress"]] == accuracies


def test_3_1_impossible_steps_stop_at_parse_time(tmp_path):
    code, out, err = run_lesson(FIT, "--steps", "-5", "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert "--steps" in err and "a whole number above 0" in err and "step 0" not in out
    assert not (tmp_path / "run").exists()

