"""Shared flags, device errors, the quiet start, and the lesson map against the README."""
import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tfcourse
from tfcourse.tools.lessons import lesson_files, lessons
from lesson_runner import PROJECT_ROOT, run_lesson

LESSON = "week03_regression/3_2_mnist_simple.py"


def test_help_names_the_lesson_and_shared_flags():
    code, out, _ = run_lesson(LESSON, "--help")
    assert code == 0
    assert "Lesson 3-2" in out and "Differences from the course code" in out
    for flag in ("--epochs", "--batch-size", "--lr", "--seed", "--quick", "--out", "--show",
                 "--data", "--data-dir", "--mirror", "--device", "--gpus", "--memory-growth",
                 "--memory-limit", "--threads"):
        assert flag in out


def test_asking_for_a_missing_gpu_lists_devices_and_exits_1(tmp_path):
    code, out, err = run_lesson(LESSON, "--device", "gpu", "--quick", "--data", "synthetic",
                                "--out", tmp_path)
    assert code == 1
    assert "sees none" in err and "CPU:0" in err and "Remedy" in err
    assert "Iter" not in out  # stopped before training


def test_gpu_index_and_bad_values_are_rejected(tmp_path):
    code, out, err = run_lesson(LESSON, "--gpus", "1", "--quick", "--out", tmp_path)
    assert code == 1 and "sees none" in err and "--device cpu" in err and "Iter" not in out
    code, _, err = run_lesson(LESSON, "--gpus", "zero", "--quick", "--out", tmp_path)
    assert code == 1 and "--gpus" in err
    code, _, err = run_lesson(LESSON, "--memory-limit", "-5", "--device", "cpu", "--quick",
                              "--out", tmp_path)
    assert code == 2 and "--memory-limit" in err and "a whole number above 0" in err
    code, _, err = run_lesson(LESSON, "--threads", "0", "--quick", "--out", tmp_path)
    assert code == 2 and "--threads" in err


def test_device_flags_after_tensorflow_started_are_one_clear_message(tmp_path):
    import tensorflow as tf
    float(tf.constant(1.0) + 1.0)  # this test process's devices now exist
    code, out, err = run_lesson(LESSON, "--threads", "1", "--quick", "--data", "synthetic",
                                "--out", tmp_path)
    assert code == 1 and "Traceback" not in err
    assert "before TensorFlow starts" in err and "fresh Python process" in err
    assert "Iter" not in out and not tmp_path.joinpath("metrics.json").exists()


def test_bad_data_dir_is_one_clear_message(tmp_path):
    code, out, err = run_lesson(LESSON, "--data-dir", tmp_path / "missing", "--quick",
                                "--out", tmp_path / "run")
    assert code == 1
    assert "Traceback" not in err and "no such folder" in err


def test_lesson_map_lists_every_script_in_course_order_and_matches_the_readme():
    mapped = lessons()
    assert [path for _, path, _, _ in mapped] == lesson_files()
    numbers = [number for number, _, _, _ in mapped]
    assert len(numbers) == len(set(numbers)), "two scripts claim the same lesson number"
    assert numbers.index("9-retrain") < numbers.index("9-1")  # 9-1 tests what retrain makes
    weeks = [int(path[4:6]) for _, path, _, _ in mapped]
    assert weeks == sorted(weeks)

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+-[\w-]+) \| ([^|]+?) \| `python (\S+?\.py)[^`]*`", readme, re.M)
    assert [(n, p) for n, _, p in rows] == [(n, p) for n, p, _, _ in mapped]  # same order
    titles = {n: t for n, _, t, _ in mapped}
    for number, title, _ in rows:
        assert title.strip() == titles[number], f"README's title of {number} is not the script's"


def test_python_m_tfcourse_lessons_prints_tab_separated_map():
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "tfcourse", "lessons"],
                            capture_output=True, text=True, timeout=120, cwd=Path("/"))
    assert result.returncode == 0
    assert "tensorflow" not in result.stderr  # the map reads files only: no TensorFlow start-up
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert ["3-2", LESSON, "MNIST数据集分类简单版本"] in lines
    assert all(len(parts) == 3 and (PROJECT_ROOT / parts[1]).exists() for parts in lines)


def test_the_commands_survive_a_gbk_console(tmp_path):
    """Issue 22 class 4: output encoded as GBK (a Chinese Windows console redirected to a file):
    no UnicodeEncodeError; ✓/✗ become OK/X, which GBK can show."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text(json.dumps({"lesson": "3-2", "progress": [
        {"epoch": 20, "test_accuracy": 0.9134}]}), encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "gbk"}
    for argv, code, phrase in [(["doctor", "--offline"], None, "OK Python: "),
                               (["lessons"], 0, "3-2\tweek03_regression"),
                               (["compare", "3-2", run], 0, "OK 结论 Verdict: matches"),
                               (["compare", "3-2", tmp_path], 1, "错误 Error: ")]:
        done = subprocess.run([sys.executable, "-m", "tfcourse", *map(str, argv)], env=env,
                              cwd=tmp_path, capture_output=True, timeout=120)
        out, err = done.stdout.decode("gbk"), done.stderr.decode("gbk")
        assert "Traceback" not in err and phrase in out + err, (argv, out, err)
        assert done.returncode == code if code is not None else done.returncode in (0, 1)


def test_log_keeps_the_last_state_of_an_in_place_progress_line(tmp_path):
    import io
    from tfcourse.cli import _Tee
    terminal = io.StringIO()
    with open(tmp_path / "log.txt", "w", encoding="utf-8") as log:
        tee = _Tee(terminal, log)
        tee.write("start\n")
        for i in range(1, 1001):  # as 10-2 and the downloads print their progress
            tee.write(f"\r>> Converting image {i}/1000")
        tee.write("\n")
        tee.write("done\n")
    log = (tmp_path / "log.txt").read_text(encoding="utf-8")
    assert log == "start\n>> Converting image 1000/1000\ndone\n"
    assert terminal.getvalue().count("\r") == 1000  # the terminal still sees every update


def test_file_and_folder_flags_refuse_the_wrong_kind_of_path(tmp_path):
    """--data-dir/--out must be folders, a file to read (9-1's --image, 10-4's --model) a file:
    a wrong path is argparse's one-line error, not a traceback later."""
    (tmp_path / "a.txt").write_text("x")
    assert tfcourse.existing_file(str(tmp_path / "a.txt")) == tmp_path / "a.txt"
    assert tfcourse.folder(str(tmp_path)) == tmp_path
    wrong = [(tfcourse.existing_file, tmp_path / "none.jpg", "no such file"),
             (tfcourse.existing_file, tmp_path, "is a folder, not a file"),
             (tfcourse.folder, tmp_path / "a.txt", "is a file, not a folder")]
    for flag_type, path, phrase in wrong:
        with pytest.raises(argparse.ArgumentTypeError, match=phrase):
            flag_type(str(path))


def test_a_python_without_tensorflow_is_told_how_to_install_it():
    """`pip install -e .` alone, or the wrong Python: `import tfcourse` says what to install, in
    one message, not ModuleNotFoundError's traceback."""
    blocked = ("import importlib.abc, sys\n"
               "class NoTensorFlow(importlib.abc.MetaPathFinder):\n"
               "    def find_spec(self, name, path, target=None):\n"
               "        if name == 'tensorflow':\n"
               "            raise ModuleNotFoundError('No tensorflow', name=name)\n"
               "sys.meta_path.insert(0, NoTensorFlow())\n"
               "sys.argv = ['lesson.py']\n"
               "import tfcourse\n")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                          encoding="utf-8", timeout=60, cwd=PROJECT_ROOT)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"tensorflow is not installed in this Python ({sys.executable})" in done.stderr
    assert "Remedy: pip install -r requirements.txt" in done.stderr
