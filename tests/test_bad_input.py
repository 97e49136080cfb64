"""Bad input a learner can cause, across every lesson: one clear message, a non-zero exit, and
nothing half-written or left behind to break the next run.

Lesson 3-2 stands in for every lesson here: the flags, the run folder, the lock and the MNIST
loading are the same shared code in all of them. Lesson-specific cases (another model's
checkpoint, a damaged TFRecord shard, ...) are tested beside their lessons.
"""
import gzip
import json
import re
import subprocess
import sys
from collections import namedtuple

import numpy as np
import pytest

import tfcourse
from tfcourse import cli, mnist
from lesson_runner import run_lesson

LESSON = "week03_regression/3_2_mnist_simple.py"
QUICK = ("--quick", "--data", "synthetic", "--epochs", "1")


def assert_clear_failure(code, err, phrase, exit_code=1):
    assert code == exit_code, err
    assert "Traceback" not in err
    assert phrase in err, err


@pytest.mark.parametrize("flag, value, phrase", [
    ("--epochs", "0", "a whole number above 0"),
    ("--epochs", "-1", "a whole number above 0"),
    ("--batch-size", "0", "a whole number above 0"),
    ("--lr", "nan", "a finite number above 0"),
    ("--lr", "-0.1", "a finite number above 0"),
    ("--lr", "fast", "a finite number above 0"),
    ("--threads", "0", "--threads"),
])
def test_impossible_numbers_stop_at_parse_time(tmp_path, flag, value, phrase):
    code, out, err = run_lesson(LESSON, *QUICK, flag, value, "--out", tmp_path / "run")
    assert_clear_failure(code, err, phrase, exit_code=2)
    assert flag in err and "Iter" not in out
    assert not (tmp_path / "run").exists()  # nothing was started, so nothing was made


def test_batch_larger_than_the_data_is_refused(tmp_path):
    code, out, err = run_lesson(LESSON, *QUICK, "--batch-size", "100000", "--out", tmp_path / "run")
    assert_clear_failure(code, err, "--batch-size 100000 is larger than the 5000 training images", 2)
    assert "Iter" not in out
    assert not (tmp_path / "run").exists()  # a run that fails before any progress leaves no folder


def test_a_diverging_loss_stops_with_the_step_and_the_remedy(tmp_path):
    parser = tfcourse.make_parser("Lesson 0-0 测试 — test.", lr=0.5)
    run = tfcourse.setup(parser.parse_args(["--out", str(tmp_path / "run")]), __file__)
    try:
        run.check_finite(1.25, "epoch 0")  # a finite loss passes
        with pytest.raises(tfcourse.CourseError, match=r"(?s)became nan at epoch 3.*smaller learning rate than --lr 0.5"):
            run.check_finite(float("nan"), "epoch 3")
        with pytest.raises(tfcourse.CourseError, match="became inf"):
            run.check_finite(np.float32("inf"), "step 10")
    finally:
        cli._close_current("failed")


def test_quick_changes_defaults_only_and_typed_flags_win():
    parser = tfcourse.make_parser("Lesson 0-0 测试 — test.", epochs=21, batch_size=100, quick=dict(epochs=2))
    assert parser.parse_args([]).epochs == 21
    assert parser.parse_args(["--quick"]).epochs == 2
    assert parser.parse_args(["--quick", "--epochs", "5"]).epochs == 5
    assert parser.parse_args(["--epochs", "5", "--quick"]).epochs == 5
    assert parser.parse_args(["--quick"]).batch_size == 100  # not in the quick dict: the lesson's
    assert parser.parse_args([]).epochs == 21  # --quick left no defaults behind


def test_run_folder_that_cannot_be_made_is_one_message(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code, out, err = run_lesson(LESSON, *QUICK, "--out", blocker / "run")
    assert_clear_failure(code, err, "Cannot write to the run folder")
    assert "--out DIR" in err and "Iter" not in out


def test_read_only_run_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    # Root ignores file modes, so the refusal the OS would give is simulated at the lock file.
    def refuse(out):
        raise PermissionError(13, "Permission denied", str(out / ".lock"))
    monkeypatch.setattr(cli, "_take_lock", refuse)
    code, out, err = run_lesson(LESSON, *QUICK, "--out", tmp_path / "run")
    assert_clear_failure(code, err, "Permission denied")
    assert "Iter" not in out and "数据" not in out  # stopped before loading data


def test_full_disk_is_refused_before_any_work(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(cli.shutil, "disk_usage", lambda path: usage(10 * 2**20, 10 * 2**20 - 2**19, 2**19))
    code, out, err = run_lesson(LESSON, *QUICK, "--out", tmp_path / "run")
    assert_clear_failure(code, err, "Only 0 MB free")
    assert "Iter" not in out
    assert list((tmp_path / "run").iterdir()) == []  # the lock was released


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(str(sleeper.pid))  # a live run holds the folder
        code, _, err = run_lesson(LESSON, *QUICK, "--out", out)
        assert_clear_failure(code, err, f"Another run (process {sleeper.pid}) is writing to")
        assert (out / ".lock").read_text() == str(sleeper.pid)  # its lock is left alone
    finally:
        sleeper.kill()
        sleeper.wait()
    code, _, err = run_lesson(LESSON, *QUICK, "--out", out)  # the lock of a dead run is taken over
    assert code == 0, err
    assert not (out / ".lock").exists()
    assert json.loads((out / "metrics.json").read_text())["status"] == "finished"


def test_each_run_gets_its_own_folder_and_failed_runs_leave_none(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path)
    lesson_runs = tmp_path / "runs" / "week03_regression" / "3_2_mnist_simple"
    first = run_lesson(LESSON, *QUICK)
    second = run_lesson(LESSON, *QUICK)
    assert first[0] == 0 and second[0] == 0
    folders = sorted(p for p in lesson_runs.iterdir() if not p.is_symlink())
    assert len(folders) == 2  # the second run did not overwrite the first one's record
    assert (lesson_runs / "latest").resolve() == folders[-1].resolve()
    assert tfcourse.latest_run(LESSON) == folders[-1]

    code, _, err = run_lesson(LESSON, "--quick", "--data-dir", tmp_path / "nowhere")
    assert_clear_failure(code, err, "no such folder")
    assert sorted(p for p in lesson_runs.iterdir() if not p.is_symlink()) == folders  # no empty folder
    assert tfcourse.latest_run(LESSON) == folders[-1]


def test_record_and_log_of_a_run(tmp_path):
    code, out, _ = run_lesson(LESSON, "--quick", "--data", "synthetic", "--epochs", "2", "--out", tmp_path)
    assert code == 0
    record = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert record["lesson"] == "3-2" and record["status"] == "finished" and record["synthetic"] is True
    assert record["flags"]["epochs"] == 2 and record["versions"]["tensorflow"] == tfcourse_tf_version()
    printed = [float(v) for v in re.findall(r"^Iter \d+,Testing Accuracy ([\d.]+)$", out, re.M)]
    assert [round(p["test_accuracy"], 4) for p in record["progress"]] == printed
    assert (tmp_path / "log.txt").read_text(encoding="utf-8") == out  # the log is what the learner saw
    assert out.splitlines()[-2].startswith("完成 Done: lesson 3-2 | CPU |") and "data SYNTHETIC" in out


def tfcourse_tf_version():
    import tensorflow as tf
    return tf.__version__


def gz(data):
    return gzip.compress(data)


@pytest.fixture
def small_mnist(monkeypatch):
    """Four tiny IDX files, with the loader's content table pointed at them."""
    import hashlib
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": (rng.integers(0, 255, (60, 28, 28)), 2051),
              "train-labels-idx1-ubyte": (rng.integers(0, 10, 60), 2049),
              "t10k-images-idx3-ubyte": (rng.integers(0, 255, (20, 28, 28)), 2051),
              "t10k-labels-idx1-ubyte": (rng.integers(0, 10, 20), 2049)}
    raw = {}
    for name, (array, magic) in arrays.items():
        header = magic.to_bytes(4, "big") + len(array).to_bytes(4, "big")
        header += (28).to_bytes(4, "big") * 2 if magic == 2051 else b""
        raw[name] = header + np.asarray(array, dtype=np.uint8).tobytes()
    monkeypatch.setattr(mnist, "IDX_FILES", {n: (int.from_bytes(d[:4], "big"), int.from_bytes(d[4:8], "big"),
                                                 hashlib.md5(d).hexdigest()) for n, d in raw.items()})
    return raw


def damaged_deflate(data):
    """A gzip whose header is fine but whose deflate stream is broken (zlib.error, not OSError)."""
    packed = bytearray(gz(data))
    for i in range(20, 40):
        packed[i] ^= 0xFF
    return bytes(packed)


def test_gzip_damaged_inside_its_deflate_stream_in_data_dir(small_mnist, tmp_path):
    for name, data in small_mnist.items():
        (tmp_path / (name + ".gz")).write_bytes(gz(data))
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(damaged_deflate(small_mnist["t10k-images-idx3-ubyte"]))
    with pytest.raises(tfcourse.CourseError, match=r"t10k-images-idx3-ubyte.gz is damaged.*\n.*Remedy"):
        tfcourse.load_mnist(data_dir=tmp_path, verbose=False)


def test_damaged_cache_file_is_deleted_and_downloaded_again(small_mnist, file_server, monkeypatch, capsys):
    cache = mnist.keras_cache_dir() / "mnist"
    cache.mkdir(parents=True)
    for name, data in small_mnist.items():
        (cache / (name + ".gz")).write_bytes(gz(data))
        file_server.files[f"/m/{name}.gz"] = gz(data)
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(damaged_deflate(small_mnist["train-labels-idx1-ubyte"]))
    monkeypatch.setattr(mnist, "NPZ_URLS", [])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/m/")])
    data = tfcourse.load_mnist(verbose=False, validation_size=10)
    assert len(data.x_train) == 50
    printed = capsys.readouterr().out
    assert "train-labels-idx1-ubyte.gz is damaged" in printed and "; downloading it again" in printed
    assert any(path.endswith("train-labels-idx1-ubyte.gz") for path, _ in file_server.requests)
    assert gzip.decompress((cache / "train-labels-idx1-ubyte.gz").read_bytes()) == small_mnist["train-labels-idx1-ubyte"]


def test_damaged_partial_download_is_not_retried_forever(small_mnist, file_server, monkeypatch):
    """A bad .part that a Range request cannot extend (HTTP 416) is checked, deleted, fetched anew."""
    cache = mnist.keras_cache_dir() / "mnist"
    cache.mkdir(parents=True)
    for name, data in small_mnist.items():
        file_server.files[f"/m/{name}.gz"] = gz(data)
    good = gz(small_mnist["t10k-labels-idx1-ubyte"])
    (cache / "t10k-labels-idx1-ubyte.gz.part").write_bytes(damaged_deflate(small_mnist["t10k-labels-idx1-ubyte"])
                                                           .ljust(len(good) + 10, b"\0"))
    monkeypatch.setattr(mnist, "NPZ_URLS", [])
    monkeypatch.setattr(mnist, "IDX_MIRRORS", [file_server.url("/m/"), file_server.url("/again/")])
    file_server.files.update({f"/again/{name}.gz": gz(data) for name, data in small_mnist.items()})
    data = tfcourse.load_mnist(verbose=False, validation_size=10)
    assert len(data.y_test) == 20
    assert not list(cache.glob("*.part"))
