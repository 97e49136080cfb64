"""Week 4: cross-entropy (and the course's double softmax), dropout, optimizers, the 98% homework.

Every lesson runs whole in --quick mode on synthetic digits, in this process (TensorFlow imported
once).
"""
import json
import re
import shutil

import pytest
from lesson_runner import run_lesson
from PIL import Image

WEEK = "week04_softmax_dropout_optimizers"
QUICK = ("--quick", "--data", "synthetic")


def progress(folder):
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["progress"]


def assert_png(path, min_size=(300, 200)):
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]


def test_4_1_runs_both_losses_and_reports_the_difference(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_1_cross_entropy.py", *QUICK, "--double-softmax",
                                "--epochs", "1", "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in
                  re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2  # --epochs 1 (typed) wins over --quick: one epoch per loss
    assert accuracies[-1] > 0.5  # chance is 0.1
    report = json.loads((tmp_path / "double_softmax.json").read_text(encoding="utf-8"))
    course, fixed = report["course"], report["fixed"]
    assert report["floor"] == pytest.approx(1.4612, abs=1e-4)  # log(1 + 9/e)
    assert all(value >= report["floor"] - 1e-4 for value in course["loss"])
    assert all(f < c - 0.3 for f, c in zip(fixed["loss"], course["loss"]))
    # the second softmax makes the gradients smaller
    assert all(f > c for f, c in zip(fixed["grad_norm"], course["grad_norm"]))
    assert f"{course['loss'][-1]:.4f}" in out and f"{fixed['loss'][-1]:.4f}" in out
    assert [p["double_softmax"] for p in progress(tmp_path)] == [True, False]


@pytest.fixture(scope="module")
def dropout_run(tmp_path_factory):
    """4-2 --compare, trained once for this module: (run folder, stdout)."""
    folder = tmp_path_factory.mktemp("dropout") / "run"
    code, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", *QUICK, "--compare", "--epochs", "1",
                                "--batch-size", "250", "--out", folder)
    assert code == 0, err
    return folder, out


def test_4_2_compare_learns_and_plots_both(dropout_run):
    folder, out = dropout_run
    assert "784-2000-2000-1000-10 (tanh): 7,583,010 weights" in out
    lines = re.findall(r"^Iter (\d+),Testing Accuracy ([\d.]+),Training Accuracy ([\d.]+)$",
                       out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 0]  # one epoch with keep_prob 0.7, one with 1.0
    assert float(lines[0][1]) > 0.5 and float(lines[1][1]) > 0.5
    assert sorted(p.name for p in folder.glob("history_keep*.json")) == [
        "history_keep0.7.json", "history_keep1.json"]
    assert_png(folder / "dropout_accuracy.png")
    assert [p["keep_prob"] for p in progress(folder)] == [0.7, 1.0]


# Issue 22 class 5: --plot-only reads a finished run; it never rewrites that run's record, and
# damaged input to it is one message
def damage(folder, case):
    if case == "no history":
        for path in folder.glob("history_keep*.json"):
            path.unlink()
    elif case == "garbled history":
        (folder / "history_keep1.json").write_bytes(b'{"keep_prob": 1.0, "test": [0.9')
    elif case == "NaN in history":
        (folder / "history_keep1.json").write_text(
            '{"keep_prob": 1.0, "test": [NaN], "train": [0.9]}', encoding="utf-8")


@pytest.mark.parametrize("case, code, phrase", [
    ("intact", 0, "its log.txt and metrics.json are unchanged"),
    ("no history", 1, "No history_keep*.json in"),
    ("garbled history", 1, "history_keep1.json is not a history that 4-2 writes"),
    ("NaN in history", 1, "history_keep1.json is not a history that 4-2 writes"),
])
def test_4_2_plot_only_keeps_the_record_of_the_run_it_reads(dropout_run, tmp_path, case, code,
                                                            phrase):
    folder = shutil.copytree(dropout_run[0], tmp_path / "run")
    (folder / "dropout_accuracy.png").unlink()
    damage(folder, case)
    record = {name: (folder / name).read_bytes() for name in ("metrics.json", "log.txt")}
    got, out, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--plot-only", "--out", folder)
    assert got == code and "Traceback" not in err
    assert phrase in (out if code == 0 else err)
    assert not re.search(r"^Iter \d+,Testing", out, re.M)  # nothing trained
    assert {name: (folder / name).read_bytes() for name in record} == record
    assert (folder / "dropout_accuracy.png").exists() == (code == 0)
    if code == 0:
        assert_png(folder / "dropout_accuracy.png")
    else:
        assert "Remedy:" in err


def test_4_2_plot_only_of_a_folder_that_is_not_there_creates_nothing(tmp_path):
    code, _, err = run_lesson(f"{WEEK}/4_2_dropout.py", "--plot-only", "--out", tmp_path / "no")
    assert code == 1 and "Traceback" not in err
    assert "No history_keep*.json in" in err and "--compare --out" in err
    assert not (tmp_path / "no").exists()



# Issue 22 class 7: a path flag that names a file where a folder belongs is one message
@pytest.mark.parametrize("script, flags", [
    ("4_2_dropout.py", ["--plot-only", "--out"]),
    ("4_1_cross_entropy.py", [*QUICK, "--data-dir"]),
    ("4_3_optimizers.py", [*QUICK, "--out"]),
])
def test_a_file_where_a_folder_belongs_is_one_message(tmp_path, script, flags):
    file = tmp_path / "history_keep0.7.json"
    file.write_text("{}", encoding="utf-8")
    code, out, err = run_lesson(f"{WEEK}/{script}", *flags, file)
    assert code == 2 and "Traceback" not in err
    assert "is a file, not a folder" in err and "Iter" not in out
    assert [p.name for p in tmp_path.iterdir()] == [file.name]
    assert file.read_text(encoding="utf-8") == "{}"

def test_4_3_adam_run_prints_the_course_line(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3_optimizers.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    accuracies = [float(v) for v in
                  re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert len(accuracies) == 2 and accuracies[-1] > 0.5  # --quick: 2 epochs
    assert [round(p["test_accuracy"], 4) for p in progress(tmp_path)] == accuracies


def test_4_3b_every_optimizer_learns_and_leaves_the_start(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3b_optimizer_race.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    assert len(re.findall(r"^Iter \d+, Testing Accuracy", out, re.M)) == 1  # --quick: 1 epoch
    names = {"SGD", "Momentum", "NAG", "Adagrad", "RMSprop", "Adadelta", "Adam"}
    races = {}
    for point in progress(tmp_path):
        races.setdefault(point["race"], {})[point["optimizer"]] = point
    assert {race: set(r) for race, r in races.items()} == {
        "mnist": names, "valley": names, "saddle": names}
    for name, r in races["mnist"].items():
        assert r["last_epoch_loss"] < 0.8 * r["first_steps_loss"], name
        assert r["test_accuracy"] > 0.3, name
    for surface in ("valley", "saddle"):
        for name, r in races[surface].items():
            assert r["final_f"] < r["start_f"] - 0.5, (surface, name)
    assert races["valley"]["Adam"]["steps_to_goal"] < races["valley"]["SGD"]["steps_to_goal"]
    for name in ("optimizers_mnist", "paths_valley", "paths_saddle"):
        assert_png(tmp_path / f"{name}.png")
    for name in ("paths_valley", "paths_saddle"):
        with Image.open(tmp_path / f"{name}.gif") as gif:
            assert gif.format == "GIF" and gif.n_frames > 5


def test_5_1_prints_the_course_line_with_the_decaying_rate(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/5_1_homework_98.py", *QUICK, "--out", tmp_path)
    assert code == 0, err
    lines = re.findall(r"^Iter (\d+), Testing Accuracy= ([\d.]+), Learning Rate= ([\d.e-]+)$",
                       out, re.M)
    assert [int(i) for i, _, _ in lines] == [0, 1]
    assert float(lines[-1][1]) > 0.5
    assert float(lines[0][2]) == pytest.approx(0.001)
    assert float(lines[1][2]) == pytest.approx(0.00095)


# Issue 22 class 3: numbers the code cannot use stop at parse time (argparse, exit 2), and
# flags that combine into something impossible get one message with a remedy (exit 1)
@pytest.mark.parametrize("script, flag, value", [
    ("4_2_dropout.py", "--keep-prob", "0"),
    ("4_2_dropout.py", "--keep-prob", "1.5"),
    ("5_1_homework_98.py", "--decay", "nan"),
    ("4_3b_optimizer_race.py", "--lr-adam", "-1"),
    ("4_1_cross_entropy.py", "--batch-size", "0"),
    ("4_3_optimizers.py", "--epochs", "2.5"),
])
def test_impossible_flags_stop_at_parse_time(tmp_path, script, flag, value):
    code, out, err = run_lesson(f"{WEEK}/{script}", *QUICK, flag, value,
                                "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert flag in err and "expected" in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("script, flags, phrase, remedy", [
    ("4_2_dropout.py", ["--compare", "--keep-prob", "1"], "one network twice",
     "a --keep-prob below 1"),
    ("4_2_dropout.py", ["--compare", "--plot-only"], "--plot-only trains none",
     "then redraw with --plot-only --out DIR"),
    ("4_1_cross_entropy.py", ["--batch-size", "6000"], "larger than the 5000 training images",
     "--batch-size 5000 or less"),
])
def test_impossible_combinations_are_one_message_with_a_remedy(tmp_path, script, flags, phrase,
                                                               remedy):
    code, out, err = run_lesson(f"{WEEK}/{script}", *QUICK, *flags, "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert phrase in err and remedy in err and "Iter" not in out
    assert not (tmp_path / "run").exists()


def test_a_diverging_adam_stops_with_a_clear_message(tmp_path):
    code, out, err = run_lesson(f"{WEEK}/4_3_optimizers.py", *QUICK, "--lr", "1e38",
                                "--out", tmp_path / "run")
    assert code == 1 and "Traceback" not in err
    assert "The loss became" in err and "at epoch 0" in err
    assert "smaller learning rate than --lr 1e+38" in err
    assert "Iter" not in out  # stopped before printing an accuracy of a broken model
