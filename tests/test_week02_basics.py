"""Week 2: each script prints the course's values, the TF1 way and the TF2 way."""
import re

from lesson_runner import run_lesson


def test_2_1_graph_and_session_print_15(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_1_graph_session.py", "--out", tmp_path)
    assert code == 0
    assert out.count("[[15]]") == 3  # Session, eager, tf.function
    assert 'Tensor("MatMul:0"' in out  # in TF1 the op has no value until the Session runs it


def test_2_2_variables_sub_add_and_counter(tmp_path):
    code, out, _ = run_lesson("week02_basics/2_2_variables.py", "--out", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert lines.count("[-2 -1]") == 2 and lines.count("[-1  1]") == 2
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
