"""Week 3: the non-linear fit gets close; the simple MNIST model learns (synthetic digits)."""
import re

from lesson_runner import run_lesson


def test_3_1_loss_falls_and_fit_is_close(tmp_path):
    code, out, _ = run_lesson("week03_regression/3_1_nonlinear_regression.py", "--quick", "--out", tmp_path)
    assert code == 0
    losses = [float(v) for v in re.findall(r"loss ([\d.]+)", out)]
    assert losses[0] > 10 * losses[-1]
    assert losses[-1] < 0.004  # noise variance is 0.0004; a flat line would give ~0.0056
    assert (tmp_path / "fit.png").stat().st_size > 10_000


def test_3_2_prints_the_course_line_and_learns(tmp_path):
    code, out, _ = run_lesson("week03_regression/3_2_mnist_simple.py", "--quick", "--data", "synthetic",
                              "--epochs", "3", "--out", tmp_path)
    assert code == 0
    assert "SYNTHETIC" in out
    accuracies = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --quick caps the epochs
    assert accuracies[-1] > 0.4  # chance is 0.1
