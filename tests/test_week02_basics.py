"""Week 2: each script prints the course's values, the TF1 way and the TF2 way."""
import json
import re

from lesson_runner import run_lesson


def test_2_1_graph_and_session_print_15(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_1_graph_session.py", "--out", tmp_path)
    assert code == 0
    assert out.count("[[15]]") == 3  # Session, eager, tf.function
    assert 'Tensor("MatMul:0"' in out  # in TF1 the op has no value until the Session runs it
    assert "lesson 2-1" in out and "product 15" in out  # the one end-of-run line


def test_2_2_variables_sub_add_and_counter(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_2_variables.py", "--out", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines.count("[-2 -1]") == 2 and lines.count("[-1  1]") == 2  # sub = x - a, add = x + sub
    counts = [int(line) for line in lines if re.fullmatch(r"\d", line)]
    assert counts == [0, 1, 2, 3, 4, 5] * 2


def test_2_3_fetch_and_feed(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_3_fetch_feed.py", "--out", tmp_path)
    assert code == 0
    assert out.splitlines().count("[21.0, 7.0]") == 2
    assert out.splitlines().count("[16.]") == 2


def test_2_4_linear_fit_reaches_k_and_b(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_4_simple_example.py", "--out", tmp_path)
    assert code == 0
    progress = re.findall(r"^(\d+) \[([-\d.e]+), ([-\d.e]+)\]$", out, re.M)
    steps = [int(step) for step, _, _ in progress]
    assert steps == list(range(0, 201, 20)) * 2  # TF1 then TF2, every 20 steps
    k, b = float(progress[-1][1]), float(progress[-1][2])
    assert abs(k - 0.1) < 0.005 and abs(b - 0.2) < 0.005
    assert progress[10] == progress[21]  # TF1 and TF2 follow the same path from the same start
    assert (tmp_path / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert [p["step"] for p in record["progress"]] == list(range(0, 201, 20)) and record["status"] == "finished"


def test_2_4_typed_steps_win_over_quick(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_4_simple_example.py", "--quick", "--steps", "61", "--out", tmp_path)
    assert code == 0
    assert [int(s) for s in re.findall(r"^(\d+) \[", out, re.M)] == [0, 20, 40, 60] * 2


def test_2_4_a_diverging_learning_rate_is_one_clear_message(tmp_path):
    code, out, err = run_lesson("week02_basics/2_4_simple_example.py", "--lr", "50", "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "The loss became" in err and "smaller learning rate than --lr 50" in err
    code, _, err = run_lesson("week02_basics/2_4_simple_example.py", "--steps", "0", "--out", tmp_path / "run2")
    assert code == 2 and "--steps" in err and "a whole number above 0" in err and "Traceback" not in err
