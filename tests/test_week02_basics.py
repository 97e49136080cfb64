"""Week 2: each script prints the course's values, the TF1 way and the TF2 way."""
import json
import re

import pytest
from lesson_runner import run_lesson

WEEK = "week02_basics"


def test_2_1_graph_and_session_print_15(tmp_path):
    code, out, _ = run_lesson(f"{WEEK}/2_1_graph_session.py", "--out", tmp_path)
    assert code == 0
    assert out.count("[[15]]") == 3  # Session, eager, tf.function
    assert 'Tensor("MatMul:0"' in out  # in TF1 the op has no value until the Session runs it
    assert "lesson 2-1" in out and "product 15" in out  # the one end-of-run line


def test_2_2_variables_sub_add_and_counter(tmp_path):
    code, out, _ = run_lesson(f"{WEEK}/2_2_variables.py", "--out", tmp_path)
    assert code == 0
    lines = out.splitlines()
    # sub = x - a, add = x + sub, in TF1 and in TF2
    assert lines.count("[-2 -1]") == 2 and lines.count("[-1  1]") == 2
    counts = [int(line) for line in lines if re.fullmatch(r"\d", line)]
    assert counts == [0, 1, 2, 3, 4, 5] * 2


def test_2_3_fetch_and_feed(tmp_path):
    code, out, _ = run_lesson(f"{WEEK}/2_3_fetch_feed.py", "--out", tmp_path)
    assert code == 0
    assert out.splitlines().count("[21.0, 7.0]") == 2
    assert out.splitlines().count("[16.]") == 2


def test_2_4_linear_fit_reaches_k_and_b(tmp_path):
    code, out, _ = run_lesson(f"{WEEK}/2_4_simple_example.py", "--out", tmp_path)
    assert code == 0
    progress = re.findall(r"^(\d+) \[([-\d.e]+), ([-\d.e]+)\]$", out, re.M)
    steps = [int(step) for step, _, _ in progress]
    assert steps == list(range(0, 201, 20)) * 2  # TF1 then TF2, every 20 steps
    k, b = float(progress[-1][1]), float(progress[-1][2])
    assert abs(k - 0.1) < 0.005 and abs(b - 0.2) < 0.005
    assert progress[10] == progress[21]  # TF1 and TF2 follow the same path from the same start
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [p["step"] for p in record["progress"]] == list(range(0, 201, 20))
    assert record["status"] == "finished"


def test_2_4_typed_steps_win_over_quick(tmp_path):
    code, out, _ = run_lesson(f"{WEEK}/2_4_simple_example.py", "--quick", "--steps", "61",
                              "--out", tmp_path)
    assert code == 0
    assert [int(s) for s in re.findall(r"^(\d+) \[", out, re.M)] == [0, 20, 40, 60] * 2


def test_2_4_a_diverging_learning_rate_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/2_4_simple_example.py", "--lr", "50",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "The loss became" in err and "smaller learning rate than --lr 50" in err
    assert "## TF2" not in out  # stopped in the TF1 part, where it diverged
    assert not (tmp_path / "run" / "fit.png").exists()


# Issue 22 class 3: numbers the code behind a flag cannot use stop at parse time (exit 2)
@pytest.mark.parametrize("flag, value, phrase", [
    ("--steps", "0", "a whole number above 0"),
    ("--lr", "inf", "a finite number above 0"),
    ("--seed", "-1", "a whole number from 0"),
])
def test_2_4_impossible_numbers_stop_at_parse_time(tmp_path, flag, value, phrase):
    code, out, err = run_lesson(f"{WEEK}/2_4_simple_example.py", flag, value,
                                "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert flag in err and phrase in err and "## TF1" not in out
    assert not (tmp_path / "run").exists()
